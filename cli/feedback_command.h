// The version-4 parts of the shixin tool (protocol/FORMAT.md 15): the request context flags of
// check and measures (--matter, --operator, --purpose) and the feedback command.
//
// Thread safety: run from main() only; the parsers are pure functions.
#ifndef SHIXIN_CLI_FEEDBACK_COMMAND_H_
#define SHIXIN_CLI_FEEDBACK_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "protocol/feedback_messages.h"

namespace shixin {

// The flags of the request context, for check and measures.
inline constexpr FlagSpec kContextFlags[] = {
    {"matter", true}, {"operator", true}, {"purpose", true}};

// Returns the request context of --matter, --operator and --purpose (absent: ""); InvalidArgument
// for one over its protocol limit.
absl::StatusOr<wire::RequestContext> ContextFromFlags(const Flags& flags);
// Returns whether any of --matter, --operator, --purpose was given.
bool HasContextFlags(const Flags& flags);

// Returns the items of --applied N, --not-applied N=REASON and --cancel N=REASON (each
// repeatable; in that order), or InvalidArgument naming the flag: N not a number 1..65535, a
// reason missing for --not-applied or --cancel, a measure twice, no item at all, more than
// wire::kMaxFeedbackItems, a reason over wire::kMaxReasonBytes. --applied takes no reason
// ("N=..." is refused).
absl::StatusOr<std::vector<wire::FeedbackItem>> ParseFeedbackItems(const Flags& flags);

// shixin feedback --server H:P --receipt R [--operator O] --applied N --not-applied N=REASON
// --cancel N=REASON [--json]: sends FEEDBACK and prints what was recorded. Returns the exit
// status (commands.h): kExitInvalidId when the server refuses the feedback (an unknown receipt,
// one of another caller, a measure not in the receipt).
int RunFeedback(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_FEEDBACK_COMMAND_H_
