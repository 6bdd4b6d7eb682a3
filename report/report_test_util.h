// A small quarterly report for the render and browser tests (header-only, tests only).
#ifndef SHIXIN_REPORT_REPORT_TEST_UTIL_H_
#define SHIXIN_REPORT_REPORT_TEST_UTIL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "report/quarterly.h"

namespace shixin::report {

inline const Catalog& TestCatalog() {
  static const Catalog* catalog = [] {
    // StrCat, not std::string + literal: GCC 12 warns falsely (-Warray-bounds) on the latter.
    absl::StatusOr<Catalog> c =
        Catalog::LoadFile(absl::StrCat(SHIXIN_TEST_SOURCE_DIR, "/data/measures/hegang-2018.json"));
    EXPECT_TRUE(c.ok()) << c.status();
    return new Catalog(*std::move(c));
  }();
  return *catalog;
}

// Two callers: "hotel" asked 42 times (7 hits on 41, one not applied "guest, left"),
// "bank" 5 times (3 hits on 52, one applied then corrected to cancelled).
inline QuarterlyReport TestReport(Quarter quarter = {2026, 3}) {
  QuarterlyBuilder b(TestCatalog(), quarter, "");
  audit::QueryRecord r;
  r.time_micros = quarter.BeginMicros() + 1;
  r.receipt_issued = true;
  const std::string subjects[] = {"S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"};
  r.caller = "hotel";
  for (uint64_t i = 0; i < 42; ++i) {
    r.subject = subjects[i % 10];
    const bool hit = i < 7;
    r.listing = hit ? audit::Listing::kListed : audit::Listing::kUnlisted;
    r.measures = hit ? std::vector<uint16_t>{41} : std::vector<uint16_t>{};
    b.Add(r, {0xabcdef01, 1, 1000 + i});
  }
  r.caller = "bank";
  for (uint64_t i = 0; i < 5; ++i) {
    r.subject = subjects[i];
    r.listing = i < 3 ? audit::Listing::kListed : audit::Listing::kUnlisted;
    r.measures = i < 3 ? std::vector<uint16_t>{52} : std::vector<uint16_t>{};
    b.Add(r, {0xabcdef01, 2, 2000 + i});
  }
  audit::FeedbackRecord f;
  f.caller = "hotel";
  f.receipt = "abcdef01-1-1000";
  f.entries = {{41, audit::Outcome::kNotApplied, "guest, left"}};
  b.Add(f, {0, 0, 1});
  f.caller = "bank";
  f.receipt = "abcdef01-2-2000";
  f.entries = {{52, audit::Outcome::kApplied, ""}};
  b.Add(f, {0, 0, 2});
  f.entries = {{52, audit::Outcome::kCancelled, "paid <in full>"}};
  b.Add(f, {0, 0, 3});
  QuarterlyReport report = b.Finish();
  report.due_date = "2026-10-13";
  return report;
}

}  // namespace shixin::report

#endif  // SHIXIN_REPORT_REPORT_TEST_UTIL_H_
