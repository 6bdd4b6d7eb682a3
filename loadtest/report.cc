#include "loadtest/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace shixin::loadtest {
namespace {

double Us(uint64_t ns) { return ns / 1000.0; }

// Per second over the measured time; 0 if nothing was measured (never a made-up second).
double PerSecond(uint64_t n, double seconds) { return seconds > 0 ? n / seconds : 0; }

std::string LatencyText(const Histogram& h) {
  return absl::StrFormat("p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f us",
                         Us(h.Percentile(50)), Us(h.Percentile(90)), Us(h.Percentile(99)),
                         Us(h.Percentile(99.9)), Us(h.max()));
}

// `v` rounded to `decimals` places, so that the JSON says no more than the text summary.
double Round(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

nlohmann::ordered_json LatencyJson(const Histogram& h) {
  return {{"count", h.count()},
          {"mean", Round(h.mean() / 1000, 1)},
          {"p50", Round(Us(h.Percentile(50)), 1)},
          {"p90", Round(Us(h.Percentile(90)), 1)},
          {"p99", Round(Us(h.Percentile(99)), 1)},
          {"p999", Round(Us(h.Percentile(99.9)), 1)},
          {"max", Round(Us(h.max()), 1)}};
}

// One line; invalid UTF-8 (a label, a server's message) is replaced rather than fatal.
std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// "RATE_LIMITED 10, UNAUTHENTICATED 2".
std::string RefusedText(const std::map<std::string, uint64_t>& by_status) {
  std::string out;
  for (const auto& [status, n] : by_status) {
    absl::StrAppendFormat(&out, "%s%s %d", out.empty() ? "" : ", ", status, n);
  }
  return out;
}

bool SecondInSwap(const Report& r, size_t s) {
  const int64_t begin = static_cast<int64_t>(s) * 1'000'000'000;
  const int64_t end = begin + 1'000'000'000;
  for (const SwapTracker::Window& w : r.windows) {
    if (w.begin_ns < end && (w.end_ns == 0 || w.end_ns >= begin)) return true;
  }
  return false;
}

}  // namespace

size_t SwapsDone(const Report& r) {
  size_t done = 0;
  for (const SwapTracker::Window& w : r.windows) done += w.ok ? 1 : 0;
  return done;
}

bool SwapsFailed(const Report& r) {
  return !r.run.refresh.empty() && (r.windows.empty() || SwapsDone(r) < r.windows.size());
}

void MergeResults(std::vector<ThreadResult>* results, Report* r) {
  for (ThreadResult& t : *results) {
    r->all.Merge(t.all);
    if (const size_t k = static_cast<size_t>(t.undecided_window);
        t.undecided_window >= 0 && k < r->windows.size() && r->windows[k].ok) {
      t.in_swap.Merge(t.undecided);
    } else {
      t.outside.Merge(t.undecided.latency);
    }
    r->in_swap.Merge(t.in_swap.latency);
    r->swap_errors += t.in_swap.errors;
    r->swap_wrong += t.in_swap.wrong;
    r->swap_answers += t.in_swap.answers;
    r->outside.Merge(t.outside);
    r->requests += t.requests;
    r->ids += t.ids;
    r->refused += t.refused;
    for (const auto& [status, n] : t.refused_by_status) r->refused_by_status[status] += n;
    r->whole_requests += t.whole_requests;
    r->whole_ids += t.whole_ids;
    r->whole_refused += t.whole_refused;
    r->errors += t.errors;
    r->wrong += t.wrong;
    r->unsent += t.unsent;
    r->reconnects += t.reconnects;
    r->retried += t.retried;
    for (std::string& s : t.samples) {
      if (r->samples.size() < 10) r->samples.push_back(std::move(s));
    }
    if (r->seconds.size() < t.seconds.size()) r->seconds.resize(t.seconds.size());
    for (size_t i = 0; i < t.seconds.size(); ++i) {
      Second& to = r->seconds[i];
      const Second& from = t.seconds[i];
      to.requests += from.requests;
      to.ids += from.ids;
      to.refused += from.refused;
      to.errors += from.errors;
      to.wrong += from.wrong;
      if (from.latency) {
        if (!to.latency) to.latency = std::make_unique<Histogram>();
        to.latency->Merge(*from.latency);
      }
    }
  }
}

std::string TextSummary(const Report& r) {
  const RunDescription& d = r.run;
  const RunShape& shape = d.shape;
  const double secs = std::max(r.measured_seconds, 0.0);
  std::string out = absl::StrFormat(
      "%s%s %s: %s, %d connections x depth %d, batch %d, %d thread(s), hit/miss/related "
      "%.2f/%.2f/%.2f, measures %.2f\n",
      d.label.empty() ? "" : d.label + ": ", d.target, d.address,
      shape.rate > 0 ? absl::StrFormat("open loop at %.0f req/s", shape.rate) : "closed loop",
      shape.connections, shape.depth, shape.batch, shape.threads, shape.mix.hit, shape.mix.miss,
      shape.mix.related, shape.mix.measures);
  out += absl::StrFormat("  %.1f s measured: %d requests answered (%.0f/s), %d IDs (%.0f/s)", secs,
                         r.requests, PerSecond(r.requests, secs), r.ids, PerSecond(r.ids, secs));
  if (r.refused > 0) {
    out += absl::StrFormat("; %d refused (%s), not in the rates or the latency", r.refused,
                           RefusedText(r.refused_by_status));
  }
  out += absl::StrFormat("; errors %d, wrong answers %d", r.errors, r.wrong);
  if (r.unsent > 0) {
    out += absl::StrFormat(", %d due but never sent (%s)", r.unsent,
                           r.all_lost_seconds > 0 ? "no connection left" : "client behind");
  }
  if (r.all_lost_seconds > 0) {
    out += absl::StrFormat("; every connection lost %.1f s into the run", r.all_lost_seconds);
  }
  if (!r.interrupted.empty()) out += "; interrupted by " + r.interrupted + ": the run until then";
  if (r.reconnects > 0) {
    out += absl::StrFormat("; %d connections lost and opened again, %d requests sent again",
                           r.reconnects, r.retried);
  }
  out += "\n  latency of the answered " + LatencyText(r.all) + "\n";
  if (!d.refresh.empty()) {
    double swap_secs = 0;
    for (const auto& w : r.windows) swap_secs += (w.end_ns - w.begin_ns) / 1e9;
    const size_t done = SwapsDone(r);
    out += absl::StrFormat("  swaps (%s): %d done", d.refresh, done);
    if (done < r.windows.size()) out += absl::StrFormat(", %d FAILED", r.windows.size() - done);
    if (r.windows.empty()) out += " (none was made: the run ended first, or no admin connection)";
    out += absl::StrFormat(", %.1f s in all", swap_secs);
    size_t shown = 0;
    for (const auto& w : r.windows) {
      if (w.ok && ++shown > 10) continue;  // the JSON has them all
      out += absl::StrFormat(" [%.1f-%.1f s%s]", w.begin_ns / 1e9, w.end_ns / 1e9,
                             w.ok ? "" : " FAILED: " + w.message);
    }
    if (shown > 10) out += absl::StrFormat(" (and %d more)", shown - 10);
    out += "\n";
    if (done > 0) {  // figures "during swaps" only of swaps that happened
      out += absl::StrFormat("  during swaps: %d requests, wrong answers %d of %d, errors %d\n",
                             r.in_swap.count(), r.swap_wrong, r.swap_answers, r.swap_errors);
      out += "    latency " + LatencyText(r.in_swap) + "\n";
      out += absl::StrFormat("  outside swaps: %d requests\n    latency %s\n", r.outside.count(),
                             LatencyText(r.outside));
    }
  }
  if (const FeedSummary& f = r.feed; f.files > 0) {
    out += absl::StrFormat(
        "  deltas fed %d, applied %d; visible after p50 %.1f ms, max %.1f ms; touched answers "
        "judged %d, wrong %d, unjudged %d\n",
        f.files, f.applied, f.visible_p50_ms, f.visible_max_ms, f.judged, f.wrong, f.unjudged);
    if (!f.error.empty()) out += "  ! feed: " + f.error + "\n";
  }
  for (const std::string& s : r.samples) out += "  ! " + s + "\n";
  return out;
}

std::string JsonSummary(const Report& r) {
  const RunDescription& d = r.run;
  const RunShape& shape = d.shape;
  const double secs = std::max(r.measured_seconds, 0.0);
  nlohmann::ordered_json windows = nlohmann::ordered_json::array();
  for (const SwapTracker::Window& w : r.windows) {
    windows.push_back({{"begin_s", Round(w.begin_ns / 1e9, 3)},
                       {"end_s", Round(w.end_ns / 1e9, 3)},
                       {"ok", w.ok},
                       {"message", w.message}});
  }
  nlohmann::ordered_json j = {
      {"label", d.label},
      {"target", d.target},
      {"address", d.address},
      {"mode", shape.rate > 0 ? "open" : "closed"},
      {"rate", std::llround(shape.rate)},
      {"connections", shape.connections},
      {"depth", shape.depth},
      {"batch", shape.batch},
      {"threads", shape.threads},
      {"mix",
       {{"hit", Round(shape.mix.hit, 3)},
        {"miss", Round(shape.mix.miss, 3)},
        {"related", Round(shape.mix.related, 3)},
        {"touched", Round(shape.mix.touched, 3)},
        {"measures", Round(shape.mix.measures, 3)}}},
      {"seconds", Round(secs, 3)},
      {"requests", r.requests},
      {"ids", r.ids},
      {"throughput_rps", Round(PerSecond(r.requests, secs), 1)},
      {"throughput_ids", Round(PerSecond(r.ids, secs), 1)},
      {"refused", r.refused},
      {"refused_by_status", r.refused_by_status},
      {"whole_run",
       {{"requests", r.whole_requests}, {"ids", r.whole_ids}, {"refused", r.whole_refused}}},
      {"errors", r.errors},
      {"wrong", r.wrong},
      {"unsent", r.unsent},
      {"all_connections_lost_s", r.all_lost_seconds > 0
                                     ? nlohmann::ordered_json(Round(r.all_lost_seconds, 3))
                                     : nlohmann::ordered_json(nullptr)},
      {"interrupted", r.interrupted.empty() ? nlohmann::ordered_json(nullptr)
                                            : nlohmann::ordered_json(r.interrupted)},
      {"reconnects", r.reconnects},
      {"retried", r.retried},
      {"latency_us", LatencyJson(r.all)},
      {"swap",
       {{"refresh", d.refresh},
        {"done", SwapsDone(r)},
        {"failed", r.windows.size() - SwapsDone(r)},
        {"windows", std::move(windows)},
        {"requests", r.in_swap.count()},
        {"answers", r.swap_answers},
        {"wrong", r.swap_wrong},
        {"errors", r.swap_errors},
        {"latency_us", LatencyJson(r.in_swap)}}},
      {"outside_swap", {{"latency_us", LatencyJson(r.outside)}}},
      {"samples", r.samples},
  };
  if (const FeedSummary& f = r.feed; f.files > 0) {
    j["feed"] = {{"files", f.files},
                 {"applied", f.applied},
                 {"visible_p50_ms", Round(f.visible_p50_ms, 1)},
                 {"visible_max_ms", Round(f.visible_max_ms, 1)},
                 {"judged", f.judged},
                 {"wrong", f.wrong},
                 {"unjudged", f.unjudged},
                 {"error", f.error}};
  }
  return Dump(j);
}

std::string RedisLoadJson(const RedisLoadStats& stats) {
  return Dump({{"keys", stats.keys},
               {"load_seconds", Round(stats.seconds, 3)},
               {"used_memory", stats.used_memory}});
}

absl::Status WriteTimeSeries(const Report& r, const std::string& path) {
  std::ofstream out(path);
  if (!out) return absl::UnavailableError(absl::StrFormat("cannot write %s", path));
  out << "# second requests ids p50_us p99_us max_us errors wrong in_swap refused warmup\n";
  for (size_t s = 0; s < r.seconds.size(); ++s) {
    const Second& sec = r.seconds[s];
    const Histogram* h = sec.latency.get();
    out << absl::StrFormat("%d %d %d %.1f %.1f %.1f %d %d %d %d %d\n", s, sec.requests, sec.ids,
                           h ? Us(h->Percentile(50)) : 0, h ? Us(h->Percentile(99)) : 0,
                           h ? Us(h->max()) : 0, sec.errors, sec.wrong, SecondInSwap(r, s) ? 1 : 0,
                           sec.refused, static_cast<double>(s) < r.warmup_seconds ? 1 : 0);
  }
  return out ? absl::OkStatus() : absl::UnavailableError(absl::StrFormat("writing %s", path));
}

absl::Status Plot(const Report& r, const std::string& series_path, const std::string& out_path) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return absl::UnavailableError("gnuplot is not installed (apt-get install gnuplot-nox)");
  }
  const bool svg = out_path.size() > 4 && out_path.substr(out_path.size() - 4) == ".svg";
  std::string script = absl::StrFormat(
      "set terminal %s size 1000,500\nset output '%s'\n"
      "set title '%s%s: latency per second (shaded: swap)'\nset xlabel 'seconds'\n"
      "set ylabel 'latency (us)'\nset logscale y\nset y2label 'requests/s'\nset y2tics\n"
      "set key outside bottom center horizontal\nset grid\n",
      svg ? "svg" : "png", out_path, r.run.label.empty() ? "" : r.run.label + " ", r.run.target);
  int n = 1;
  for (const auto& w : r.windows) {
    script += absl::StrFormat(
        "set object %d rect from %.2f, graph 0 to %.2f, graph 1 fc rgb '#ffd0d0' fs solid 0.5 "
        "noborder behind\n",
        n++, w.begin_ns / 1e9, (w.end_ns > 0 ? w.end_ns : w.begin_ns) / 1e9);
  }
  script += absl::StrFormat(
      "plot '%s' using 1:4 with lines title 'p50', '' using 1:5 with lines title 'p99', "
      "'' using 1:6 with lines title 'max', '' using 1:2 axes x1y2 with lines dt 2 "
      "title 'requests/s'\n",
      series_path);
  const std::string script_path = out_path + ".gp";
  std::ofstream(script_path) << script;
  const std::string cmd = absl::StrFormat("gnuplot '%s'", script_path);
  if (std::system(cmd.c_str()) != 0) {
    return absl::InternalError(absl::StrFormat("gnuplot failed (script: %s)", script_path));
  }
  return absl::OkStatus();
}

}  // namespace shixin::loadtest
