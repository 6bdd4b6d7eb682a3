// Message values shared by the protocol tests.
#ifndef SHIXIN_PROTOCOL_TEST_MESSAGES_H_
#define SHIXIN_PROTOCOL_TEST_MESSAGES_H_

#include <string>
#include <string_view>
#include <utility>

#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/wire.h"

namespace shixin::wire {

// Returns the payload of `m` in `version` (messages whose layout is the same in every version
// have no version to give).
template <typename M>
std::string Enc(const M& m, uint8_t version = kVersion) {
  std::string out;
  if constexpr (requires { Encode(m, &out, version); }) {
    Encode(m, &out, version);
  } else {
    Encode(m, &out);
  }
  return out;
}

// Returns the answer for an ID that failed to parse with `error`.
inline CheckAnswer InvalidAnswer(std::string_view error) {
  CheckAnswer a;
  a.status = CheckStatus::kInvalid;
  a.error = error;
  return a;
}

// Returns the answer for a valid `id` that is not listed.
inline CheckAnswer UnlistedAnswer(std::string_view id) {
  CheckAnswer a;
  a.status = CheckStatus::kUnlisted;
  a.id = id;
  return a;
}

inline RoleInfo MakeRole(Role role, std::string id, std::string name, bool listed) {
  return RoleInfo{role, std::move(id), std::move(name), listed};
}

// Returns a CHECK response payload with one answer of each status.
inline std::string CheckResponse() {
  std::string out;
  AppendCheckCount(4, &out);
  AppendCheckAnswer(InvalidAnswer("wrong length"), &out);
  AppendCheckAnswer(UnlistedAnswer("230402199001010015"), &out);
  AppendCheckAnswer(
      {CheckStatus::kListed, "", "230987613", SubjectKind::kOrganization, 65535, 0, "龙腾"}, &out);
  AppendCheckAnswer(
      {CheckStatus::kRelated, "", "230402197203140038", SubjectKind::kPerson, 0, 3, "陈海波"},
      &out);
  return out;
}

// Returns the delta state of the v2_info_response vector: a server waiting behind a refused
// file.
inline DeltaInfo WaitingDeltaInfo() {
  return DeltaInfo{.base_sequence = 40,
                   .sequence = 43,
                   .last_delta_time = 1780452000,  // 2026-06-03T10:00:00+08:00
                   .lag_seconds = 95,
                   .pending = 2,
                   .applied_files = 3,
                   .applied_changes = 41230,
                   .notes = 12,
                   .refusals = 1,
                   .gap = false,
                   .gap_after = 0,
                   .overlay_subjects = 38911,
                   .overlay_bytes = 5242880,
                   .refused =
                       "00000000000000000044.ndjson:17: correct: case （2017）黑04执31号 of "
                       "230407199103150045 is unknown, removed or revoked",
                   .delta_error = ""};
}

}  // namespace shixin::wire

#endif  // SHIXIN_PROTOCOL_TEST_MESSAGES_H_
