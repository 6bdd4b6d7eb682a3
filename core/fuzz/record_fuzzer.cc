// libFuzzer target for the ingest of single records: ParseCaseRecord, ParseRelationRecord and
// ParseFeedDate on arbitrary bytes. Beyond the sanitizers, it checks that every view in a
// parsed record points into the input or into the scratch buffer, as ingest.h promises.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/ingest.h"

namespace shixin {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "record_fuzzer: %s\n", what);
    std::abort();
  }
}

bool Within(std::string_view view, std::string_view range) {
  auto begin = reinterpret_cast<uintptr_t>(range.data());
  auto p = reinterpret_cast<uintptr_t>(view.data());
  return p >= begin && p + view.size() <= begin + range.size();
}

void CheckView(std::string_view view, std::string_view input, const std::string& scratch,
               const char* field) {
  if (view.empty()) return;
  Check(Within(view, input) || Within(view, scratch), field);
}

void CheckIdValid(const Id& id, const char* field) {
  Check(!id.empty(), field);
  absl::StatusOr<Id> again = ParseId(id.text());  // a normalised ID parses to itself
  Check(again.ok() && again->text() == id.text(), field);
}

}  // namespace
}  // namespace shixin

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shixin;
  // A copy of exactly `size` bytes, so that ASan catches a read past the record.
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string scratch;
  absl::StatusOr<CaseInput> c = ParseCaseRecord(input, &scratch);
  if (c.ok()) {
    CheckIdValid(c->id, "case id");
    CheckView(c->name, input, scratch, "a case field points outside input and scratch");
    ForEachCaseField(
        [&]<typename M>(const CaseField&, const M& field) {
          if constexpr (kIsCaseText<M>) {
            CheckView(field, input, scratch, "a case field points outside input and scratch");
          }
        },
        *c);
    Check(static_cast<int>(c->sex) < kSexCount && c->age <= 150, "sex or age");
  } else {
    Check(absl::IsInvalidArgument(c.status()), "case error code");
  }
  absl::StatusOr<RelationInput> r = ParseRelationRecord(input, &scratch);
  if (r.ok()) {
    CheckIdValid(r->org, "relation org");
    CheckIdValid(r->person, "relation person");
    Check(!r->person_name.empty(), "empty person name");
    CheckView(r->person_name, input, scratch, "personName points outside input and scratch");
  } else {
    Check(absl::IsInvalidArgument(r.status()), "relation error code");
  }
  std::optional<uint32_t> date = ParseFeedDate(input);
  if (date && *date != 0) {
    Check(*date >= 19000101 && *date <= 21001231, "date out of range");
  }
  return 0;
}
