#include "audit/record.h"

namespace shixin::audit {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApplied:
      return "applied";
    case Outcome::kNotApplied:
      return "not_applied";
    case Outcome::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

bool OutcomeFromName(std::string_view name, Outcome* outcome) {
  for (Outcome o : {Outcome::kApplied, Outcome::kNotApplied, Outcome::kCancelled}) {
    if (name == OutcomeName(o)) {
      *outcome = o;
      return true;
    }
  }
  return false;
}

// EncodeQuery, EncodeFeedback, DecodeQuery and DecodeFeedback: the audit library's work.

}  // namespace shixin::audit
