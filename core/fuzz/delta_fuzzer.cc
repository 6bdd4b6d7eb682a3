// libFuzzer target for the delta parser: ParseDelta on arbitrary bytes as the text of one
// delta file. Beyond the sanitizers, it checks what delta.h promises of a parsed file (lines in
// order, normalised IDs, the members each op sets) and that a refusal is InvalidArgument naming
// the file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "core/delta.h"
#include "core/validity.h"

namespace shixin {
namespace {

constexpr std::string_view kName = "00000000000000000042.ndjson";

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "delta_fuzzer: %s\n", what);
    std::abort();
  }
}

void CheckIdValid(const Id& id, const char* field) {
  Check(!id.empty(), field);
  absl::StatusOr<Id> again = ParseId(id.text());  // a normalised ID parses to itself
  Check(again.ok() && again->text() == id.text(), field);
}

void CheckChange(const DeltaChange& c) {
  CheckIdValid(c.id, "change id");
  switch (c.op) {
    case DeltaOp::kAdd:
    case DeltaOp::kCorrect:
      Check(!c.name.empty() && !c.record.case_code.empty(), "case without name or code");
      Check(c.record.term_end == 0 || c.record.term_end >= c.record.publish_date, "term end");
      Check(c.at == 0 || c.record.start >= c.at, "start before at");
      Check(c.record.publish_date == 0 || c.record.start >= DayStart(c.record.publish_date),
            "start before the publish date");
      break;
    case DeltaOp::kRemove:
      Check(c.reason >= EndReason::kPerformed && c.reason <= EndReason::kOther, "reason");
      [[fallthrough]];
    case DeltaOp::kRevoke:
      Check(!c.record.case_code.empty(), "remove or revoke without a case code");
      break;
    case DeltaOp::kRelate:
      Check(!c.name.empty(), "relate without personName");
      [[fallthrough]];
    case DeltaOp::kUnrelate:
      CheckIdValid(c.org, "relation org");
      Check(c.org.kind() != IdKind::kResident && c.id.kind() == IdKind::kResident, "kinds");
      break;
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so that ASan catches a read past the text.
  std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Delta> delta = ParseDelta(kName, input);
  if (!delta.ok()) {
    Check(absl::IsInvalidArgument(delta.status()), "error code");
    Check(absl::StartsWith(delta.status().message(), absl::string_view(kName.data(), kName.size())),
          "error without the file name");
    return;
  }
  Check(delta->sequence == 42, "sequence");
  Check(input.empty() || input.back() == '\n', "accepted a file cut short");
  uint64_t line = 0;
  for (const DeltaChange& c : delta->changes) {
    Check(c.line > line, "lines out of order");
    line = c.line;
    CheckChange(c);
  }
}

}  // namespace
}  // namespace shixin

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shixin::FuzzOne(data, size);
  return 0;
}
