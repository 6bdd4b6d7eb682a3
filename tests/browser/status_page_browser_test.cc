// The status page (issue 13) in a real browser (headless Chromium): the DOM holds the numbers,
// the two charts are laid out with a nonzero size and draw their polylines, and a screenshot is
// taken. The page itself has no script; the test appends one that writes each chart's laid-out
// size and polyline count into the DOM, which --dump-dom then shows.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include "daemon/status_page.h"
#include "daemon/status_page_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/browser/render.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

constexpr char kProbe[] = R"js(<script>
for (const svg of document.querySelectorAll('svg.chart')) {
  const r = svg.getBoundingClientRect();
  const lines = svg.querySelectorAll('polyline');
  let drawn = 0;
  for (const p of lines) if (p.getBBox().width > 100 && p.points.length > 1) ++drawn;
  const out = document.createElement('p');
  out.id = 'probe-' + svg.id;
  out.textContent = 'w=' + Math.round(r.width) + ' h=' + Math.round(r.height) +
                    ' polylines=' + lines.length + ' drawn=' + drawn +
                    ' points=' + (lines.length ? lines[0].points.length : 0);
  document.body.appendChild(out);
}
</script>)js";

TEST(StatusPageBrowserTest, RendersNumbersAndCharts) {
  if (browser::ChromiumPath().empty()) GTEST_SKIP() << "chromium is not installed";
  const std::string dir = ::testing::TempDir() + "/status_browser_" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  std::string html = RenderStatusPage(status_testing::FixedView());
  const size_t end = html.rfind("</body>");
  ASSERT_NE(end, std::string::npos);
  const std::string page_path = dir + "/status.html";
  {
    std::ofstream out(page_path, std::ios::binary);
    out << html;
  }
  const std::string probed_path = dir + "/status_probed.html";
  {
    std::ofstream out(probed_path, std::ios::binary);
    out << html.substr(0, end) << kProbe << html.substr(end);
  }
  absl::StatusOr<std::string> dom = browser::DumpDom(probed_path);
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_THAT(*dom, HasSubstr("00c0ffee12345678"));
  EXPECT_THAT(*dom, HasSubstr("<td>1234567</td>"));
  EXPECT_THAT(*dom, HasSubstr("<span id=\"requests-hour\">36000</span>"));
  EXPECT_THAT(*dom, HasSubstr("<span id=\"report-due\">2027-01-15</span>"));
  EXPECT_THAT(*dom, HasSubstr("bank-a"));
  EXPECT_THAT(
      *dom, HasSubstr("<p id=\"probe-chart-rate\">w=640 h=200 polylines=1 drawn=1 points=360</p>"));
  EXPECT_THAT(
      *dom,
      HasSubstr("<p id=\"probe-chart-latency\">w=640 h=200 polylines=2 drawn=2 points=360</p>"));

  const std::string png_path = dir + "/status.png";
  ASSERT_TRUE(browser::Screenshot(page_path, png_path, 1024, 1400).ok());
  std::ifstream png(png_path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  // IHDR: width and height, big-endian, at bytes 16 and 20.
  const auto be32 = [&bytes](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1024u);
  EXPECT_EQ(be32(20), 1400u);
  EXPECT_GT(bytes.size(), 20'000u);  // charts and tables, not a blank page
}

}  // namespace
}  // namespace shixin
