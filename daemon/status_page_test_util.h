// A StatusView of fixed data for the status page's tests (status_page_test.cc and the browser
// test tests/browser/status_page_browser_test.cc).
//
// Thread safety: a plain function.
#ifndef SHIXIN_DAEMON_STATUS_PAGE_TEST_UTIL_H_
#define SHIXIN_DAEMON_STATUS_PAGE_TEST_UTIL_H_

#include <cmath>
#include <cstdint>

#include "daemon/status_page.h"

namespace shixin::status_testing {

// Returns a view at Unix time 1 800 000 000: list 00c0ffee12345678 generation 41 of 1234567
// subjects, 2 h old and stale; a full hour of samples (360, 100 requests each: 10/s; p50 about
// 20 µs, p99 about 180 µs); callers bank-a (1.5/s) and bank-b; report due 2027-01-15.
inline StatusView FixedView() {
  StatusView v;
  v.now = 1'800'000'000;
  v.server = "shixind/9.9.9";
  v.start_time = v.now - 3 * 86400;
  v.loaded = true;
  v.list_version = "00c0ffee12345678";
  v.generation = 41;
  v.delta_sequence = 17;
  v.subjects = 1234567;
  v.source_time = v.now - 7200;
  v.stale = true;
  for (uint32_t g = 41; g >= 38; --g) {
    v.generations.push_back(PublishedGeneration{g, v.now - (41 - g) * 3600, 0x00c0ffee12345678,
                                                g - 24, 1234567, g == 38 ? "reload" : "delta"});
  }
  v.reload_state = "ok";
  v.reload_time = v.now - 4 * 3600;
  v.reload_message = "generation 38: 1234567 subjects";
  v.deltas_applied = 3;
  v.deltas_refused = 1;
  v.deltas_pending = 2;
  v.delta_problem = "refused 00000000000000000042.ndjson: line 3: bad id";
  for (int i = 0; i < 360; ++i) {
    Metrics::Sample s;
    s.time = v.now - 3600 + (i + 1) * 10;
    s.seconds = 10;
    s.requests = 100;
    s.p50_us = 20 + 5 * std::sin(i / 20.0);
    s.p99_us = 180 + 60 * std::sin(i / 15.0);
    s.callers = {{"bank-a", 15}, {"bank-b", 85}};
    v.history.push_back(s);
  }
  v.callers = {{"bank-a", 5400, 1.5, 7, 0}, {"bank-b", 30600, 8.5, 0, 2}};
  v.audit_state = "ok";
  v.next_report_due = 20270115;
  return v;
}

}  // namespace shixin::status_testing

#endif  // SHIXIN_DAEMON_STATUS_PAGE_TEST_UTIL_H_
