// Callers for the end-to-end tests of callers mode (a callers file with tokens): a caller of
// given scopes, view and rate, and its fresh token.
//
// Thread safety: the functions are reentrant.
#ifndef SHIXIN_TESTS_TEST_CALLERS_H_
#define SHIXIN_TESTS_TEST_CALLERS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "callers/callers_file.h"
#include "callers/token.h"

namespace shixin::e2e {

// Returns a caller named after `id`, of sector "other", without tokens.
inline Caller MakeTestCaller(const std::string& id, ScopeSet scopes, View view, double rate,
                             uint32_t burst) {
  Caller c;
  c.id = id;
  c.name = "Test caller " + id;
  c.sector = "other";
  c.scopes = scopes;
  c.view = view;
  c.rate = rate;
  c.burst = burst;
  return c;
}

// Gives `c` a fresh token ((*tokens)[c.id]) and appends it to `callers`. Returns false if no
// token could be made.
inline bool AddTestCaller(Caller c, std::vector<Caller>* callers,
                          std::map<std::string, std::string>* tokens) {
  absl::StatusOr<std::string> token = NewToken();
  if (!token.ok()) return false;
  (*tokens)[c.id] = *token;
  c.token_hashes = {HashToken(*token)};
  callers->push_back(std::move(c));
  return true;
}

}  // namespace shixin::e2e

#endif  // SHIXIN_TESTS_TEST_CALLERS_H_
