#include "daemon/status_page.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "callers/callers_file.h"
#include "core/snapshot_file.h"
#include "daemon/access.h"
#include "daemon/handler_test_util.h"
#include "daemon/snapshot_holder.h"
#include "daemon/status_page_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Returns the points of each <polyline> inside the <svg> with `id`.
std::vector<int> PolylinePoints(const std::string& html, const std::string& id) {
  std::vector<int> points;
  const size_t start = html.find("<svg class=\"chart\" id=\"" + id + "\"");
  if (start == std::string::npos) return points;
  const size_t end = html.find("</svg>", start);
  for (size_t p = html.find("<polyline", start); p < end; p = html.find("<polyline", p + 1)) {
    const size_t a = html.find("points=\"", p) + 8;
    const std::string list = html.substr(a, html.find('"', a) - a);
    int n = list.empty() ? 0 : 1;
    for (char c : list) n += c == ' ';
    points.push_back(n);
  }
  return points;
}

TEST(StatusPageTest, ShowsTheNumbers) {
  const StatusView view = status_testing::FixedView();
  const std::string html = RenderStatusPage(view);
  EXPECT_THAT(html, HasSubstr("shixind/9.9.9 status"));
  EXPECT_THAT(html, HasSubstr("<code>00c0ffee12345678</code>"));
  EXPECT_THAT(html, HasSubstr("<td>1234567</td>"));  // subjects
  EXPECT_THAT(html, HasSubstr("(age 2 h 0 min)"));   // source data
  EXPECT_THAT(html, HasSubstr("STALE"));
  EXPECT_THAT(html, HasSubstr("3 applied, 1 refused, 2 pending"));
  EXPECT_THAT(html, HasSubstr("refused 00000000000000000042.ndjson"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">41</td>"));  // a generation row
  EXPECT_THAT(html, HasSubstr("<span id=\"report-due\">2027-01-15</span>"));
  EXPECT_THAT(html, HasSubstr("<span id=\"requests-hour\">36000</span>"));  // 360 x 100
  EXPECT_THAT(html, HasSubstr("<span id=\"rate-hour\">10.0</span>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">1.50</td>"));  // bank-a's rate
  // Times in China Standard Time, as INFO and the log's texts: 1 800 000 000 is 08:00 UTC.
  EXPECT_THAT(html, HasSubstr("2027-01-15 16:00:00 +08:00"));
  EXPECT_THAT(html, Not(HasSubstr(" UTC")));
  // Self-contained: no script, no link, no external source.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
}

// A base from a snapshot file shows its format; one older than this build writes stands out.
TEST(StatusPageTest, ShowsTheSnapshotFormat) {
  StatusView view = status_testing::FixedView();
  EXPECT_THAT(RenderStatusPage(view), Not(HasSubstr("Snapshot format")));  // a data directory
  view.snapshot_format = kSnapshotFormatVersion;
  EXPECT_THAT(RenderStatusPage(view),
              HasSubstr(absl::StrCat("Snapshot format</th><td>", kSnapshotFormatVersion, "<")));
  view.snapshot_format = kOldestSnapshotFormatVersion;
  EXPECT_THAT(RenderStatusPage(view),
              HasSubstr(absl::StrCat("<span class=\"stale\">", kOldestSnapshotFormatVersion,
                                     "</span> (this build writes ", kSnapshotFormatVersion)));
}

TEST(StatusPageTest, ChartsHaveAPointPerSample) {
  const StatusView view = status_testing::FixedView();
  const std::string html = RenderStatusPage(view);
  EXPECT_EQ(PolylinePoints(html, "chart-rate"), std::vector<int>{360});
  EXPECT_EQ(PolylinePoints(html, "chart-latency"), (std::vector<int>{360, 360}));
  EXPECT_THAT(html, HasSubstr(">now</text>"));
  EXPECT_THAT(html, HasSubstr(">−60 min</text>"));
}

TEST(StatusPageTest, EmptyHistoryDrawsAxesOnly) {
  StatusView view = status_testing::FixedView();
  view.history.clear();
  view.callers.clear();
  view.loaded = false;
  const std::string html = RenderStatusPage(view);
  EXPECT_TRUE(PolylinePoints(html, "chart-rate").empty());
  EXPECT_THAT(html, HasSubstr("<svg class=\"chart\" id=\"chart-rate\""));
  EXPECT_THAT(html, HasSubstr("no samples yet"));
  EXPECT_THAT(html, HasSubstr("no list loaded"));
  EXPECT_THAT(html, HasSubstr("No caller has sent a request."));
}

// The callers table mixes windows (the last hour's answers, the refusals since the start): its
// headings say which, as INFO's counters differ from both.
TEST(StatusPageTest, TheCallersTableNamesItsWindows) {
  const std::string html = RenderStatusPage(status_testing::FixedView());
  EXPECT_THAT(html, HasSubstr("<th>Requests (last hour, every answer)</th>"));
  EXPECT_THAT(html, HasSubstr("<th>Rate-limited (since start)</th>"));
  EXPECT_THAT(html, HasSubstr("<th>Denied (since start)</th>"));
}

// Finding 2 (x26): records stamped ahead of the clock show in the audit's table, as its state.
TEST(StatusPageTest, ShowsWhyTheAuditsTimesAreAheadOfTheClock) {
  StatusView view = status_testing::FixedView();
  EXPECT_THAT(RenderStatusPage(view), Not(HasSubstr("<th>Times</th>")));
  view.audit_times = "stream 0's records are stamped 2027-01-15T19:30:39Z, its newest time";
  EXPECT_THAT(RenderStatusPage(view),
              HasSubstr("<tr><th>Times</th><td>stream 0&#39;s records are stamped "
                        "2027-01-15T19:30:39Z, its newest time</td></tr>"));
}

TEST(StatusPageTest, EscapesText) {
  StatusView view = status_testing::FixedView();
  view.callers[0].id = "<script>alert(1)</script>";
  view.reload_message = "bad \"file\" & <more>";
  const std::string html = RenderStatusPage(view);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("bad &quot;file&quot; &amp; &lt;more&gt;"));
}

TEST(StatusPageTest, ViewOfTheLiveDaemon) {
  RcuThread rcu;
  SnapshotHolder holder;
  Reloader reloader(handler_testing::SampleSource(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  Metrics metrics(MetricsSources{&holder, &reloader}, 1'000);
  metrics.Record(static_cast<uint8_t>(wire::Opcode::kCheck), 0, "bank-a", 5'000);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  metrics.TakeSample(now);
  const StatusView view = MakeStatusView(metrics, now, 0);
  EXPECT_TRUE(view.loaded);
  EXPECT_EQ(view.generation, 1u);
  EXPECT_GT(view.subjects, 0u);
  EXPECT_EQ(view.list_version.size(), 16u);
  ASSERT_EQ(view.generations.size(), 1u);
  EXPECT_EQ(view.generations[0].kind, "load");
  ASSERT_EQ(view.history.size(), 1u);
  ASSERT_EQ(view.callers.size(), 1u);
  EXPECT_EQ(view.callers[0].id, "bank-a");
  EXPECT_EQ(view.callers[0].requests, 1u);
  EXPECT_EQ(view.audit_state, "off");
  const HttpReply status = ServeStatus(metrics, 0, HttpRequest{});
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(status.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(status.body, HasSubstr(view.list_version));
  const HttpReply scrape = ServeMetrics(metrics, HttpRequest{});
  EXPECT_EQ(scrape.content_type, "text/plain; version=0.0.4");
  EXPECT_THAT(scrape.body, HasSubstr("shixin_list_generation 1"));
  EXPECT_THAT(scrape.body, HasSubstr("shixin_list_snapshot_format 0"));  // a data directory
}

// Callers mode: the page may be reachable beyond loopback, and shows what INFO shows a caller
// that is not admin (FORMAT.md 8.5); open mode (loopback only) shows the texts.
TEST(StatusPageTest, WithCallersTheReloadAndDeltaTextsAreForAdminsOnly) {
  const std::string callers = ::testing::TempDir() + "/status_page_test_callers.toml";
  std::string token;
  absl::StatusOr<CallerTable> table = CallerTable::Create({handler_testing::MakeCaller(
      "bank-a", ScopeBit(Scope::kCheck), View::kFull, 10, 10, &token)});
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_TRUE(WriteCallersFile(callers, *table).ok());
  absl::StatusOr<std::unique_ptr<Access>> access =
      Access::FromFile(callers, handler_testing::Sample()->catalog);
  ASSERT_TRUE(access.ok()) << access.status();

  RcuThread rcu;
  SnapshotHolder holder;
  Reloader reloader(handler_testing::SampleSource(), &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  constexpr char kError[] = "data dir /srv/secret/list: debtors.ndjson:15: malformed JSON";
  holder.SetReloadStatus({wire::ReloadState::kFailed, now - 60, kError});

  Metrics open_metrics(MetricsSources{&holder, &reloader}, 1'000);
  const std::string open_page = RenderStatusPage(MakeStatusView(open_metrics, now, 0));
  EXPECT_THAT(open_page, HasSubstr(kError));
  EXPECT_THAT(open_page, Not(HasSubstr("for admins only")));

  Metrics metrics(MetricsSources{&holder, &reloader, access->get()}, 1'000);
  const StatusView view = MakeStatusView(metrics, now, 0);
  EXPECT_TRUE(view.admin_texts_withheld);
  EXPECT_EQ(view.reload_message, "");
  const std::string page = RenderStatusPage(view);
  EXPECT_THAT(page, Not(HasSubstr("/srv/secret")));
  EXPECT_THAT(page, Not(HasSubstr("malformed JSON")));
  EXPECT_THAT(page, HasSubstr(">failed</span> at "));  // the state and the time stay
  EXPECT_THAT(page, HasSubstr("for admins only"));
}

TEST(StatusPageTest, ViewOfADaemonOnASnapshotFile) {
  absl::StatusOr<std::unique_ptr<Dataset>> built = LoadDataset(handler_testing::SampleSource());
  ASSERT_TRUE(built.ok()) << built.status();
  DatasetSource source = handler_testing::SampleSource();
  source.snapshot = ::testing::TempDir() + "/status_page_test.snap";
  const Catalog& catalog = (*built)->catalog;
  ASSERT_TRUE(WriteSnapshotFile(*(*built)->snapshot,
                                CatalogIdentity{catalog.id(), catalog.fingerprint()},
                                source.snapshot)
                  .ok());
  RcuThread rcu;
  SnapshotHolder holder;
  Reloader reloader(source, &holder);
  ASSERT_TRUE(reloader.LoadFirst().ok());
  Metrics metrics(MetricsSources{&holder, &reloader}, 1'000);
  const StatusView view = MakeStatusView(metrics, absl::ToUnixSeconds(absl::Now()), 0);
  EXPECT_EQ(view.snapshot_format, kSnapshotFormatVersion);
  EXPECT_THAT(ServeMetrics(metrics, HttpRequest{}).body,
              HasSubstr(absl::StrCat("shixin_list_snapshot_format ", kSnapshotFormatVersion)));
}

}  // namespace
}  // namespace shixin
