// The status page (GET /status): a self-contained HTML page for people — the serving list
// (version, generation, age, subjects), the generations and deltas of the last days, the
// reload and delta status, requests per second and handling latency (p50/p99) over the last
// hour as inline SVG line charts, the callers and their rates, the next report due date. No
// script and no external asset: it must work on an air-gapped network.
//
// RenderStatusPage() renders a plain StatusView, so tests render fixed data;
// MakeStatusView() fills one from the live daemon (Metrics' sources and history).
//
// Thread safety: pure functions but MakeStatusView()/ServeStatus(), which read the sources as
// Metrics::Collect() does (REQUIRES: the calling thread holds an RcuThread).
#ifndef SHIXIN_DAEMON_STATUS_PAGE_H_
#define SHIXIN_DAEMON_STATUS_PAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/http_message.h"
#include "daemon/metrics.h"
#include "daemon/reloader.h"

namespace shixin {

// Everything the status page shows.
struct StatusView {
  int64_t now = 0;  // Unix seconds: when the view was taken
  std::string server;
  int64_t start_time = 0;

  bool loaded = false;       // a list is serving; the list fields below are set
  std::string list_version;  // the base's version, 16 hex digits
  uint32_t generation = 0;
  uint64_t delta_sequence = 0;
  uint64_t subjects = 0;
  uint32_t snapshot_format = 0;  // the base's snapshot file format (0: from a data directory)
  int64_t source_time = 0;       // Unix seconds: the list's newest source data
  bool stale = false;            // older than max_age_seconds

  // Generations published in the last kStatusDays, newest first.
  std::vector<PublishedGeneration> generations;

  std::string reload_state;  // "none", "ok", "failed", "running"
  int64_t reload_time = 0;   // Unix seconds; 0: never
  std::string reload_message;
  // Callers mode, where the page may be reachable beyond loopback: the reload message and the
  // refused delta file and its reason, which INFO gives to admins only (FORMAT.md 8.5), are
  // left out, and the page says where to read them.
  bool admin_texts_withheld = false;
  uint64_t deltas_applied = 0;
  uint64_t deltas_refused = 0;
  uint64_t deltas_pending = 0;
  std::string delta_problem;  // a refused file and why, a gap, the directory's error; or ""

  std::vector<Metrics::Sample> history;  // oldest first
  struct CallerRate {
    std::string id;
    uint64_t requests = 0;  // in the history's window
    double per_second = 0;
    uint64_t rate_limited = 0;  // since the start
    uint64_t denied = 0;
  };
  std::vector<CallerRate> callers;

  std::string audit_state;       // "off", "ok", "failing"
  uint32_t next_report_due = 0;  // YYYYMMDD; 0 unknown
  std::string due_note;          // why it is unknown, or ""
  std::string audit_times;       // Auditor::ClockNote(), or ""
};

// How many days of generations the page lists.
inline constexpr int kStatusDays = 7;

// Returns the page for `view`.
std::string RenderStatusPage(const StatusView& view);

// Returns the view of the daemon that `metrics` observes at Unix time `now`; `max_age_seconds`
// (0: never) decides `stale`. With callers (metrics.sources().access in callers mode) the
// admin texts are withheld (StatusView::admin_texts_withheld).
StatusView MakeStatusView(const Metrics& metrics, int64_t now, uint64_t max_age_seconds);

// The HTTP adapters the daemon plugs into the listener's slots: the page as text/html, and
// the Prometheus exposition (Metrics::Scrape) as text/plain; version=0.0.4.
HttpReply ServeStatus(const Metrics& metrics, uint64_t max_age_seconds, const HttpRequest& request);
HttpReply ServeMetrics(const Metrics& metrics, const HttpRequest& request);

}  // namespace shixin

#endif  // SHIXIN_DAEMON_STATUS_PAGE_H_
