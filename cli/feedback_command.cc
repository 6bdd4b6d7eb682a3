#include "cli/feedback_command.h"

#include <cstdio>
#include <iostream>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/remote.h"
#include "protocol/render.h"

namespace shixin {
namespace {

// Returns the item of one flag value "N" or "N=REASON".
absl::StatusOr<wire::FeedbackItem> ParseItem(std::string_view flag, const std::string& value,
                                             wire::FeedbackOutcome outcome) {
  const size_t eq = value.find('=');
  const std::string number = value.substr(0, eq);
  uint32_t measure = 0;
  if (!absl::SimpleAtoi(number, &measure) || measure < 1 || measure > 0xFFFF) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s %s: \"%s\" is not a measure number (1 to 65535)", flag, value, number));
  }
  wire::FeedbackItem item{static_cast<uint16_t>(measure), outcome, ""};
  if (eq != std::string::npos) item.reason = value.substr(eq + 1);
  if (outcome == wire::FeedbackOutcome::kApplied && eq != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--applied %s: an applied measure takes no reason", value));
  }
  if (outcome != wire::FeedbackOutcome::kApplied && wire::IsBlankReason(item.reason)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s %s: needs a reason, as --%s %d=\"why\"", flag, value, flag, measure));
  }
  if (item.reason.size() > wire::kMaxReasonBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s %d: a reason of %d bytes exceeds the limit of %d", flag, measure,
                        item.reason.size(), wire::kMaxReasonBytes));
  }
  return item;
}

const std::vector<FlagSpec> kFeedbackFlags = [] {
  std::vector<FlagSpec> specs(std::begin(kConnectFlags), std::end(kConnectFlags));
  for (const FlagSpec& s : std::initializer_list<FlagSpec>{{"receipt", true},
                                                           {"operator", true},
                                                           {"applied", true},
                                                           {"not-applied", true},
                                                           {"cancel", true},
                                                           {"json", false}}) {
    specs.push_back(s);
  }
  return specs;
}();

}  // namespace

bool HasContextFlags(const Flags& flags) {
  return flags.Get("matter") || flags.Get("operator") || flags.Get("purpose");
}

absl::StatusOr<wire::RequestContext> ContextFromFlags(const Flags& flags) {
  wire::RequestContext c{flags.Get("matter").value_or(""), flags.Get("operator").value_or(""),
                         flags.Get("purpose").value_or("")};
  for (const auto& [name, value, max] : {std::tuple<const char*, const std::string*, size_t>{
                                             "matter", &c.matter, wire::kMaxMatterBytes},
                                         {"operator", &c.operator_id, wire::kMaxOperatorBytes},
                                         {"purpose", &c.purpose, wire::kMaxPurposeBytes}}) {
    if (value->size() > max) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s: %d bytes exceed the limit of %d", name, value->size(), max));
    }
  }
  return c;
}

absl::StatusOr<std::vector<wire::FeedbackItem>> ParseFeedbackItems(const Flags& flags) {
  std::vector<wire::FeedbackItem> items;
  for (const auto& [flag, outcome] : {std::pair{"applied", wire::FeedbackOutcome::kApplied},
                                      std::pair{"not-applied", wire::FeedbackOutcome::kNotApplied},
                                      std::pair{"cancel", wire::FeedbackOutcome::kCancelled}}) {
    for (const std::string& value : flags.GetAll(flag)) {
      absl::StatusOr<wire::FeedbackItem> item = ParseItem(flag, value, outcome);
      if (!item.ok()) return item.status();
      items.push_back(*std::move(item));
    }
  }
  if (items.empty()) {
    return absl::InvalidArgumentError(
        "no measure: give --applied N, --not-applied N=REASON or --cancel N=REASON");
  }
  if (items.size() > wire::kMaxFeedbackItems) {
    return absl::InvalidArgumentError(absl::StrFormat("%d measures; one feedback takes at most %d",
                                                      items.size(), wire::kMaxFeedbackItems));
  }
  if (absl::Status s = wire::CheckFeedbackItems(items); !s.ok()) return s;
  return items;
}

int RunFeedback(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, kFeedbackFlags);
  if (!flags.ok()) return UsageError("feedback", flags.status());
  if (!flags->positional().empty()) {
    return UsageError("feedback", absl::InvalidArgumentError(absl::StrFormat(
                                      "unexpected argument \"%s\"", flags->positional()[0])));
  }
  if (!flags->Get("server")) {
    return UsageError("feedback", absl::InvalidArgumentError("feedback needs --server"));
  }
  const std::optional<std::string> receipt = flags->Get("receipt");
  if (!receipt || receipt->empty()) {
    return UsageError("feedback", absl::InvalidArgumentError("feedback needs --receipt R"));
  }
  absl::StatusOr<std::vector<wire::FeedbackItem>> items = ParseFeedbackItems(*flags);
  if (!items.ok()) return UsageError("feedback", items.status());
  absl::StatusOr<wire::RequestContext> context = ContextFromFlags(*flags);  // --operator
  if (!context.ok()) return UsageError("feedback", context.status());
  const wire::FeedbackRequest request{*receipt, context->operator_id, *std::move(items)};
  return RemoteFeedback(*flags, request);
}

}  // namespace shixin
