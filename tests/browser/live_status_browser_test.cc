// The status page (issue 13) of a LIVE shixind in a real browser (headless Chromium): the daemon
// answers requests over the binary protocol and HTTP, its sampler takes a history sample (every
// 10 s: the test waits for the first, bounded), and Chromium loads http://127.0.0.1:PORT/status.
// The DOM holds the list's version and subjects and both charts with their series; a copy of
// the served page with a probe script (the page has none) shows the charts laid out with a
// nonzero size; a screenshot of the live page is taken.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/operator_messages.h"
#include "tests/browser/render.h"
#include "tests/daemon_harness.h"
#include "tests/http_socket.h"

namespace shixin::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kListed[] = "11010519491231002X";

// Writes each chart's laid-out size and polyline count into the DOM.
constexpr char kProbe[] = R"js(<script>
for (const svg of document.querySelectorAll('svg.chart')) {
  const r = svg.getBoundingClientRect();
  const out = document.createElement('p');
  out.id = 'probe-' + svg.id;
  out.textContent = 'w=' + Math.round(r.width) + ' h=' + Math.round(r.height) +
                    ' polylines=' + svg.querySelectorAll('polyline').length;
  document.body.appendChild(out);
}
</script>)js";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(LiveStatusBrowserTest, TheDaemonsStatusPageRendersItsListAndCharts) {
  if (browser::ChromiumPath().empty()) GTEST_SKIP() << "chromium is not installed";
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  std::unique_ptr<Daemon> daemon = StartHttpDaemon(SampleDir());
  ASSERT_NE(daemon, nullptr);

  // Some requests, binary and HTTP.
  absl::StatusOr<std::unique_ptr<Client>> client = daemon->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*client)->Check({kListed}).ok());
  absl::StatusOr<Reply<wire::InfoResponse>> info = (*client)->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  const std::string version = absl::StrFormat("%016x", info->value.snapshot.version);
  for (int i = 0; i < 5; ++i) {
    std::optional<HttpResponse> r = HttpRoundTrip(
        *daemon, HttpPost("/v1/check", absl::StrFormat(R"({"ids":["%s"]})", kListed)));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->body;
  }

  // The sampler's first sample (Metrics::kSampleInterval after the start) draws the series.
  std::optional<HttpResponse> page;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    page = HttpRoundTrip(*daemon, HttpGet("/status"));
    if (page.has_value() && absl::StrContains(page->body, "<polyline")) break;
    absl::SleepFor(absl::Milliseconds(250));
  } while (absl::Now() < deadline);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->status, 200) << page->head;
  ASSERT_THAT(page->body, HasSubstr("<polyline")) << "no history sample within 30 s";

  // The live page, as Chromium loads and parses it.
  const std::string url = absl::StrCat("http://127.0.0.1:", daemon->http_port(), "/status");
  absl::StatusOr<std::string> dom = browser::DumpDom(url);
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_THAT(*dom, HasSubstr(absl::StrCat("<code>", version, "</code>")));
  EXPECT_THAT(*dom, HasSubstr("<tr><th>Subjects</th><td>12</td></tr>"));
  EXPECT_THAT(*dom, HasSubstr("<svg class=\"chart\" id=\"chart-rate\""));
  EXPECT_THAT(*dom, HasSubstr("<svg class=\"chart\" id=\"chart-latency\""));
  EXPECT_THAT(*dom, HasSubstr("data-series=\"p99\""));
  EXPECT_THAT(*dom, ::testing::Not(HasSubstr("no samples yet")));

  // The served page with the probe: both charts laid out, with their series.
  const size_t end = page->body.rfind("</body>");
  ASSERT_NE(end, std::string::npos);
  const std::string probed = scratch.Path("status_probed.html");
  WriteFile(probed, page->body.substr(0, end) + kProbe + page->body.substr(end));
  absl::StatusOr<std::string> laid_out = browser::DumpDom(probed);
  ASSERT_TRUE(laid_out.ok()) << laid_out.status();
  EXPECT_THAT(*laid_out, HasSubstr("<p id=\"probe-chart-rate\">w=640 h=200 polylines=1</p>"));
  EXPECT_THAT(*laid_out, HasSubstr("<p id=\"probe-chart-latency\">w=640 h=200 polylines=2</p>"));

  // A screenshot of the live page: a PNG of the window's size, not a blank one.
  const std::string png_path = scratch.Path("status.png");
  ASSERT_TRUE(browser::Screenshot(url, png_path, 1024, 1400).ok());
  std::ifstream png(png_path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  const auto be32 = [&bytes](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  EXPECT_EQ(be32(16), 1024u);  // IHDR: width and height
  EXPECT_EQ(be32(20), 1400u);
  EXPECT_GT(bytes.size(), 20'000u);  // charts and tables, not a blank page
}

}  // namespace
}  // namespace shixin::e2e
