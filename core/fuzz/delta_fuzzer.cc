// libFuzzer target for the delta parser and its application: ParseDelta on arbitrary bytes as
// the text of one delta file. Beyond the sanitizers, it checks what delta.h promises of a parsed
// file (lines in order, normalised IDs, the members each op sets) and that a refusal is
// InvalidArgument naming the file. A parsed delta is then applied to the shipped sample list
// (the corpus's seeds name its subjects and cases) with and without the starting states
// PrepareDelta() builds ahead: the same refusal or the same notes and overlay; then every
// subject it names is checked at three instants.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "core/dataset.h"
#include "core/delta.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/prepared_delta.h"
#include "core/query.h"
#include "core/test_util.h"
#include "core/validity.h"

namespace shixin {
namespace {

constexpr std::string_view kName = "00000000000000000042.ndjson";

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "delta_fuzzer: %s\n", what);
    std::abort();
  }
}

void CheckIdValid(const Id& id, const char* field) {
  Require(!id.empty(), field);
  absl::StatusOr<Id> again = ParseId(id.text());  // a normalised ID parses to itself
  Require(again.ok() && again->text() == id.text(), field);
}

void CheckChange(const DeltaChange& c) {
  CheckIdValid(c.id, "change id");
  switch (c.op) {
    case DeltaOp::kAdd:
    case DeltaOp::kCorrect:
      Require(!c.name.empty() && !c.record.case_code.empty(), "case without name or code");
      Require(c.record.term_end == 0 || c.record.term_end >= c.record.publish_date, "term end");
      Require(c.at == 0 || c.record.start >= c.at, "start before at");
      Require(c.record.publish_date == 0 || c.record.start >= DayStart(c.record.publish_date),
              "start before the publish date");
      break;
    case DeltaOp::kRemove:
      Require(c.reason >= EndReason::kPerformed && c.reason <= EndReason::kOther, "reason");
      [[fallthrough]];
    case DeltaOp::kRevoke:
      Require(!c.record.case_code.empty(), "remove or revoke without a case code");
      break;
    case DeltaOp::kRelate:
      Require(!c.name.empty(), "relate without personName");
      [[fallthrough]];
    case DeltaOp::kUnrelate:
      CheckIdValid(c.org, "relation org");
      Require(c.org.kind() != IdKind::kResident && c.id.kind() == IdKind::kResident, "kinds");
      break;
  }
}

// The list the deltas are applied to: data/sample, loaded once.
const Snapshot& Base() {
  static const Snapshot* base = [] {
    absl::StatusOr<std::unique_ptr<const Snapshot>> s =
        LoadDataDir(SHIXIN_SAMPLE_DIR, LoadOptions{}, nullptr);
    Require(s.ok(), "cannot load data/sample");
    return s->release();
  }();
  return *base;
}

void CheckApplication(Delta delta) {
  const Snapshot& base = Base();
  delta.sequence = base.info().delta_sequence + 1;
  OverlayBuilder plain(base, nullptr), ahead(base, nullptr);
  DeltaReport plain_report, ahead_report;
  const absl::Status refusal = plain.Apply(delta, &plain_report);
  PreparedDelta states = PrepareDelta(base, nullptr, delta);
  Require(ahead.Apply(delta, &ahead_report, &states) == refusal, "prepared: another outcome");
  Require(ahead_report.notes == plain_report.notes, "prepared: other notes");
  if (!refusal.ok()) {
    Require(absl::IsInvalidArgument(refusal), "refusal code");
    Require(absl::StartsWith(refusal.message(), absl::string_view(kName.data(), kName.size())),
            "refusal without the file name");
    return;
  }
  const std::unique_ptr<const Overlay> overlay = plain.Finish();
  Require(testing::OverlayDifferences(*overlay, *ahead.Finish()) == 0, "prepared: another overlay");
  const ListView view(base, overlay.get());
  for (const DeltaChange& c : delta.changes) {
    for (const int64_t t : {c.at - 1, c.at, c.at + 3 * 365 * 86400}) {
      Require(Check(view, c.id, t, true).ok(), "check of a changed subject");
      if (!c.org.empty()) Require(Check(view, c.org, t, true).ok(), "check of a changed org");
    }
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so that ASan catches a read past the text.
  std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Delta> delta = ParseDelta(kName, input);
  if (!delta.ok()) {
    Require(absl::IsInvalidArgument(delta.status()), "error code");
    Require(
        absl::StartsWith(delta.status().message(), absl::string_view(kName.data(), kName.size())),
        "error without the file name");
    return;
  }
  Require(delta->sequence == 42, "sequence");
  Require(input.empty() || input.back() == '\n', "accepted a file cut short");
  uint64_t line = 0;
  for (const DeltaChange& c : delta->changes) {
    Require(c.line > line, "lines out of order");
    line = c.line;
    CheckChange(c);
  }
  CheckApplication(*std::move(delta));
}

}  // namespace
}  // namespace shixin

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shixin::FuzzOne(data, size);
  return 0;
}
