#include "daemon/status_page.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/html.h"
#include "core/snapshot_file.h"
#include "core/validity.h"
#include "daemon/access.h"
#include "daemon/auditor.h"
#include "daemon/handler.h"
#include "daemon/snapshot_holder.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

constexpr std::string_view kCss = R"css(
svg.chart { display: block; margin: 2mm 0 4mm; background: #fff; }
svg.chart text { font-size: 11px; fill: #333; }
svg.chart .axis { stroke: #555; stroke-width: 1; }
svg.chart .grid { stroke: #ddd; stroke-width: 1; }
svg.chart polyline { fill: none; stroke-width: 1.8; }
.stale { color: #b00; font-weight: 600; }
.ok { color: #070; }
.failed { color: #b00; font-weight: 600; }
)css";

constexpr int kChartWidth = 640;
constexpr int kChartHeight = 200;
constexpr int kLeft = 60, kRight = 12, kTop = 24, kBottom = 26;
constexpr int64_t kWindowSeconds = 3600;

// In China Standard Time, as INFO, the log's text, the audit and the notices give times.
std::string TimeText(int64_t unix_seconds) {
  if (unix_seconds == 0) return "—";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S %Ez", absl::FromUnixSeconds(unix_seconds),
                          ChinaTime());
}

// Returns "2 d 3 h", "3 h 12 min", "5 min 3 s" or "42 s".
std::string AgeText(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds >= 86400) {
    return absl::StrFormat("%d d %d h", seconds / 86400, seconds % 86400 / 3600);
  }
  if (seconds >= 3600) return absl::StrFormat("%d h %d min", seconds / 3600, seconds % 3600 / 60);
  if (seconds >= 60) return absl::StrFormat("%d min %d s", seconds / 60, seconds % 60);
  return absl::StrFormat("%d s", seconds);
}

std::string DayText(uint32_t yyyymmdd) {
  return absl::StrFormat("%04d-%02d-%02d", yyyymmdd / 10000, yyyymmdd / 100 % 100, yyyymmdd % 100);
}

// Returns `v` with few digits, for axis labels and tables.
std::string Num(double v) {
  if (v >= 100 || v == 0) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

void Row(std::string_view name, const std::string& value_html, std::string* out) {
  absl::StrAppend(out, "<tr><th>", HtmlEscape(name), "</th><td>", value_html, "</td></tr>\n");
}

struct Series {
  std::string name;
  std::string color;
  std::vector<double> y;  // one per sample
};

// Appends an SVG line chart of `series` over the samples' times `x` (the last hour before
// `now`), with axes, gridlines and labels; one <polyline> per series with one point per sample.
void AppendChart(std::string_view id, std::string_view unit, const std::vector<int64_t>& x,
                 const std::vector<Series>& series, int64_t now, std::string* out) {
  double max = 0;
  for (const Series& s : series) {
    for (double v : s.y) max = std::max(max, v);
  }
  max = max > 0 ? max * 1.1 : 1;
  const double plot_w = kChartWidth - kLeft - kRight, plot_h = kChartHeight - kTop - kBottom;
  const auto px = [&](int64_t t) {
    const double f = static_cast<double>(t - (now - kWindowSeconds)) / kWindowSeconds;
    return kLeft + plot_w * std::clamp(f, 0.0, 1.0);
  };
  const auto py = [&](double v) { return kTop + plot_h * (1 - v / max); };
  absl::StrAppendFormat(out,
                        "<svg class=\"chart\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
                        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
                        id, kChartWidth, kChartHeight, kChartWidth, kChartHeight);
  for (int i = 0; i <= 4; ++i) {  // horizontal gridlines with the value
    const double v = max * i / 4;
    const double y = py(v);
    absl::StrAppendFormat(out,
                          "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                          "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                          kLeft, y, kChartWidth - kRight, y, kLeft - 4, y + 4, Num(v));
  }
  absl::StrAppendFormat(out,
                        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                        kLeft, kTop, kLeft, kChartHeight - kBottom, kLeft, kChartHeight - kBottom,
                        kChartWidth - kRight, kChartHeight - kBottom);
  for (int minutes : {60, 45, 30, 15, 0}) {
    absl::StrAppendFormat(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                          px(now - int64_t{minutes} * 60), kChartHeight - 8,
                          minutes == 0 ? std::string("now") : absl::StrCat("−", minutes, " min"));
  }
  absl::StrAppendFormat(out, "<text x=\"4\" y=\"12\">%s</text>\n", HtmlEscape(unit));
  int legend_x = kLeft + 8;
  for (const Series& s : series) {
    if (!x.empty()) {
      absl::StrAppendFormat(out,
                            "<polyline class=\"series\" data-series=\"%s\" stroke=\"%s\" points=\"",
                            HtmlEscape(s.name), s.color);
      for (size_t i = 0; i < x.size() && i < s.y.size(); ++i) {
        absl::StrAppendFormat(out, "%s%.1f,%.1f", i == 0 ? "" : " ", px(x[i]), py(s.y[i]));
      }
      out->append("\"/>\n");
    }
    absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%d\" fill=\"%s\" style=\"fill:%s\">%s</text>\n",
                          legend_x, kTop + 12, s.color, s.color, HtmlEscape(s.name));
    legend_x += 90;
  }
  if (x.empty()) {
    absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%d\">no samples yet</text>\n", kLeft + 20,
                          kTop + static_cast<int>(plot_h / 2));
  }
  out->append("</svg>\n");
}

void AppendList(const StatusView& v, std::string* out) {
  out->append("<h2>List</h2>\n<table id=\"list\">\n");
  if (!v.loaded) {
    Row("State", "<span class=\"failed\">no list loaded</span>", out);
    out->append("</table>\n");
    return;
  }
  Row("Version", absl::StrCat("<code>", HtmlEscape(v.list_version), "</code>"), out);
  Row("Generation", absl::StrCat(v.generation), out);
  Row("Delta sequence", absl::StrCat(v.delta_sequence), out);
  Row("Subjects", absl::StrCat(v.subjects), out);
  if (v.snapshot_format > 0) {
    Row("Snapshot format",
        v.snapshot_format < kSnapshotFormatVersion
            ? absl::StrFormat("<span class=\"stale\">%d</span> (this build writes %d: the "
                              "indexes were built at open; compile the base again)",
                              v.snapshot_format, kSnapshotFormatVersion)
            : absl::StrCat(v.snapshot_format),
        out);
  }
  Row("Source data",
      absl::StrCat(TimeText(v.source_time), " (age ", AgeText(v.now - v.source_time), ")",
                   v.stale ? " <span class=\"stale\">STALE</span>" : ""),
      out);
  out->append("</table>\n");
}

void AppendReload(const StatusView& v, std::string* out) {
  out->append("<h2>Reload and deltas</h2>\n<table id=\"reload\">\n");
  const std::string cls = v.reload_state == "failed" ? "failed" : "ok";
  Row("Last reload",
      absl::StrCat("<span class=\"", cls, "\">", HtmlEscape(v.reload_state), "</span> at ",
                   TimeText(v.reload_time)),
      out);
  if (!v.reload_message.empty()) Row("Message", HtmlEscape(v.reload_message), out);
  if (v.admin_texts_withheld && (v.reload_state == "failed" || !v.delta_problem.empty())) {
    Row("Details",
        "for admins only: INFO as an admin caller (<code>shixin info</code>), or the log", out);
  }
  Row("Delta files",
      absl::StrFormat("%d applied, %d refused, %d pending", v.deltas_applied, v.deltas_refused,
                      v.deltas_pending),
      out);
  if (!v.delta_problem.empty()) {
    Row("Delta problem",
        absl::StrCat("<span class=\"failed\">", HtmlEscape(v.delta_problem), "</span>"), out);
  }
  out->append("</table>\n");
  absl::StrAppendFormat(out, "<h2>Generations of the last %d days</h2>\n", kStatusDays);
  if (v.generations.empty()) {
    out->append("<p class=\"note\">None published in that time.</p>\n");
    return;
  }
  out->append(
      "<table id=\"generations\"><thead><tr><th>Generation</th><th>Published</th><th>Kind</th>"
      "<th>Base version</th><th>Delta sequence</th><th>Subjects</th></tr></thead><tbody>\n");
  for (const PublishedGeneration& g : v.generations) {
    absl::StrAppendFormat(out,
                          "<tr><td class=\"n\">%d</td><td>%s</td><td>%s</td><td><code>%016x"
                          "</code></td><td class=\"n\">%d</td><td class=\"n\">%d</td></tr>\n",
                          g.generation, TimeText(g.time), HtmlEscape(g.kind), g.base_version,
                          g.sequence, g.subjects);
  }
  out->append("</tbody></table>\n");
}

void AppendTraffic(const StatusView& v, std::string* out) {
  std::vector<int64_t> x;
  Series rate{"requests/s", "#1565c0", {}};
  Series p50{"p50", "#2e7d32", {}};
  Series p99{"p99", "#c62828", {}};
  uint64_t requests = 0;
  double seconds = 0;
  for (const Metrics::Sample& s : v.history) {
    x.push_back(s.time);
    rate.y.push_back(s.seconds > 0 ? static_cast<double>(s.requests) / s.seconds : 0);
    p50.y.push_back(s.p50_us);
    p99.y.push_back(s.p99_us);
    requests += s.requests;
    seconds += s.seconds;
  }
  out->append("<h2>Requests in the last hour</h2>\n");
  absl::StrAppendFormat(out,
                        "<p id=\"traffic\"><span id=\"requests-hour\">%d</span> requests, "
                        "<span id=\"rate-hour\">%s</span> per second on average.</p>\n",
                        requests, Num(seconds > 0 ? static_cast<double>(requests) / seconds : 0));
  AppendChart("chart-rate", "requests/s", x, {rate}, v.now, out);
  out->append("<h2>Handling latency (µs)</h2>\n");
  AppendChart("chart-latency", "µs", x, {p50, p99}, v.now, out);
}

void AppendCallers(const StatusView& v, std::string* out) {
  out->append("<h2>Callers</h2>\n");
  if (v.callers.empty()) {
    out->append("<p class=\"note\">No caller has sent a request.</p>\n");
    return;
  }
  out->append(
      "<table id=\"callers\"><thead><tr><th>Caller</th><th>Requests (last hour, every "
      "answer)</th><th>Per second</th><th>Rate-limited (since start)</th><th>Denied (since "
      "start)</th></tr></thead><tbody>\n");
  for (const StatusView::CallerRate& c : v.callers) {
    absl::StrAppendFormat(out,
                          "<tr><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%s</td>"
                          "<td class=\"n\">%d</td><td class=\"n\">%d</td></tr>\n",
                          HtmlEscape(c.id), c.requests, Num(c.per_second), c.rate_limited,
                          c.denied);
  }
  out->append("</tbody></table>\n");
}

void AppendAudit(const StatusView& v, std::string* out) {
  out->append("<h2>Audit</h2>\n<table id=\"audit\">\n");
  Row("State", HtmlEscape(v.audit_state), out);
  if (!v.audit_times.empty()) Row("Times", HtmlEscape(v.audit_times), out);
  Row("Next report due",
      v.next_report_due != 0
          ? absl::StrCat("<span id=\"report-due\">", DayText(v.next_report_due), "</span>")
          : absl::StrCat("unknown", v.due_note.empty() ? "" : ": ", HtmlEscape(v.due_note)),
      out);
  out->append("</table>\n");
}

}  // namespace

std::string RenderStatusPage(const StatusView& v) {
  std::string out;
  HtmlBegin(absl::StrCat(v.server, " status"), kCss, &out);
  absl::StrAppend(&out, "<h1>", HtmlEscape(v.server), " status</h1>\n<p class=\"note\">At ",
                  TimeText(v.now), "; running since ", TimeText(v.start_time), " (",
                  AgeText(v.now - v.start_time), ").</p>\n");
  AppendList(v, &out);
  AppendReload(v, &out);
  AppendTraffic(v, &out);
  AppendCallers(v, &out);
  AppendAudit(v, &out);
  HtmlEnd(&out);
  return out;
}

namespace {

// Fills the list part of `view` from the serving dataset.
void FillList(const SnapshotHolder& holder, uint64_t max_age_seconds, StatusView* view) {
  SnapshotHolder::ReadSection read(holder);
  const ReloadStatus& reload = read.reload_status();
  view->reload_state = std::string(wire::ReloadStateName(reload.state));
  view->reload_time = reload.time;
  if (!view->admin_texts_withheld) view->reload_message = reload.message;
  const Dataset* d = read.dataset();
  if (d == nullptr) return;
  view->loaded = true;
  view->list_version = absl::StrFormat("%016x", d->snapshot->info().version);
  view->generation = d->generation;
  view->delta_sequence = d->sequence;
  view->subjects = d->snapshot->info().subjects;
  view->snapshot_format = d->snapshot_format;
  view->source_time = d->source_time;
  view->stale =
      max_age_seconds > 0 && view->now - d->source_time > static_cast<int64_t>(max_age_seconds);
}

void FillReloads(const Reloader& reloader, StatusView* view) {
  const DeltaStatus deltas = reloader.delta_status();
  view->deltas_applied = deltas.applied_files;
  view->deltas_refused = deltas.refusals;
  view->deltas_pending = deltas.pending;
  const bool withheld = view->admin_texts_withheld;
  if (!deltas.refused_file.empty()) {
    view->delta_problem =
        withheld ? "a delta file was refused"
                 : absl::StrCat("refused ", deltas.refused_file, ": ", deltas.refused_reason);
  } else if (deltas.gap) {
    view->delta_problem = absl::StrFormat("the delta file after %d is missing", deltas.gap_after);
  } else if (!deltas.error.empty()) {
    view->delta_problem = withheld ? "the delta directory cannot be read" : deltas.error;
  }
  const int64_t since = view->now - int64_t{kStatusDays} * 86400;
  std::vector<PublishedGeneration> all = reloader.generations();
  for (auto it = all.rbegin(); it != all.rend() && it->time >= since; ++it) {
    view->generations.push_back(std::move(*it));
  }
}

void FillCallers(const Metrics& metrics, StatusView* view) {
  std::map<std::string, StatusView::CallerRate> by_id;
  double seconds = 0;
  for (const Metrics::Sample& s : view->history) {
    seconds += s.seconds;
    for (const auto& [id, n] : s.callers) {
      by_id[id].id = id.empty() ? "-" : id;
      by_id[id].requests += n;
    }
  }
  if (const Access* access = metrics.sources().access; access != nullptr) {
    for (const CallerCount& c : access->Counts()) {
      StatusView::CallerRate& r = by_id[c.id];
      r.id = c.id;
      r.rate_limited = c.rate_limited;
      r.denied = c.denied;
    }
  }
  for (auto& [id, r] : by_id) {
    r.per_second = seconds > 0 ? static_cast<double>(r.requests) / seconds : 0;
    view->callers.push_back(std::move(r));
  }
}

}  // namespace

StatusView MakeStatusView(const Metrics& metrics, int64_t now, uint64_t max_age_seconds) {
  StatusView view;
  view.now = now;
  view.server = std::string(Handler::ServerName());
  view.start_time = metrics.start_time();
  const MetricsSources& sources = metrics.sources();
  // Open mode listens on loopback only: there the page shows what an admin's INFO does.
  view.admin_texts_withheld = sources.access != nullptr && !sources.access->open();
  if (sources.holder != nullptr) FillList(*sources.holder, max_age_seconds, &view);
  if (sources.reloader != nullptr) FillReloads(*sources.reloader, &view);
  for (Metrics::Sample& s : metrics.History()) {
    if (s.time > now - kWindowSeconds) view.history.push_back(std::move(s));
  }
  FillCallers(metrics, &view);
  view.audit_state = "off";
  if (sources.auditor != nullptr) {
    const wire::AuditInfo info = sources.auditor->Info(now, /*admin=*/false);
    view.audit_state = std::string(wire::AuditStateName(info.state));
    view.next_report_due = info.next_report_due;
    view.due_note = info.due_note;
    view.audit_times = sources.auditor->ClockNote();
  }
  return view;
}

HttpReply ServeStatus(const Metrics& metrics, uint64_t max_age_seconds,
                      const HttpRequest& /*request*/) {
  HttpReply reply;
  reply.content_type = "text/html; charset=utf-8";
  reply.body =
      RenderStatusPage(MakeStatusView(metrics, absl::ToUnixSeconds(absl::Now()), max_age_seconds));
  return reply;
}

HttpReply ServeMetrics(const Metrics& metrics, const HttpRequest& /*request*/) {
  HttpReply reply;
  reply.content_type = "text/plain; version=0.0.4";
  reply.body = metrics.Scrape();
  return reply;
}

}  // namespace shixin
