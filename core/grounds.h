// The grounds of listing (SPC rules Art. 1) as a case's disruptTypeName gives them, and the note
// on cases whose grounds have a fixed term but whose record has none (docs/feed.md, section 1).
//
// SPC rules Art. 2: a listing for ground (1) has no fixed term; one for grounds (2)-(6) lasts 2
// years (the court may extend it). A case without termEnd counts until the court removes it.
// shixin mirrors the court and never ends such a case itself, but says that it counts on.
//
// Thread safety: pure functions; a TermlessCases is used by one thread at a time.
#ifndef SHIXIN_CORE_GROUNDS_H_
#define SHIXIN_CORE_GROUNDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/record.h"

namespace shixin {

// Returns whether `disrupt_type` names one or more grounds of listing, each one of grounds
// (2)-(6) in the court's words (违反财产报告制度, ...), separated by commas ("," or "，") or "、"
// (white space around them ignored). False if it names ground (1), any text that is not one of
// the six grounds, or nothing.
bool OnlyFixedTermGrounds(std::string_view disrupt_type);

// Returns whether the case version `c` has no termEnd although its grounds give it a term.
bool TermlessFixedTermCase(const CaseView& c);

// The cases of one load (a data directory, a delta file) that TermlessFixedTermCase() holds
// for, counted for one summary note that names the first few.
class TermlessCases {
 public:
  // The case numbers Note() names; the others are counted.
  static constexpr size_t kShown = 3;

  // Counts case `case_code` that counts from `start` (Unix seconds; 0: since ever).
  void Add(std::string_view case_code, int64_t start);
  uint64_t count() const { return count_; }
  // Returns the note, "" if no case was added: "4 cases for grounds (2)-(6) only have no
  // termEnd: they count until the court removes them, though SPC rules Art. 2 give such a
  // listing 2 years (（2020）黑0403执567号 since 2020-10-21, ... and 1 more)". The case
  // numbers' control characters are escaped (TerminalSafe()).
  std::string Note() const;

 private:
  uint64_t count_ = 0;
  std::vector<std::pair<std::string, int64_t>> shown_;  // (case number, start): the first few
};

}  // namespace shixin

#endif  // SHIXIN_CORE_GROUNDS_H_
