// The quarterly report's HTML in a real browser (headless Chromium): the DOM holds the numbers
// and tables, and printing gives A4 pages.
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/report_render.h"
#include "report/report_test_util.h"
#include "tests/browser/render.h"

namespace shixin::report {
namespace {

using ::testing::HasSubstr;

TEST(ReportBrowserTest, RendersAndPrintsOnA4) {
  if (browser::ChromiumPath().empty()) GTEST_SKIP() << "chromium is not installed";
  const std::string dir = ::testing::TempDir() + "/report_browser_" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  const std::string html_path = dir + "/report.html";
  {
    std::ofstream out(html_path, std::ios::binary);
    out << RenderHtml(TestReport());
  }
  absl::StatusOr<std::string> dom = browser::DumpDom(html_path);
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_THAT(*dom, HasSubstr("data-key=\"queries\">42<"));
  EXPECT_THAT(*dom, HasSubstr("data-key=\"hits\">7<"));
  EXPECT_THAT(*dom, HasSubstr("<td data-key=\"due_date\">2026-10-13</td>"));
  EXPECT_THAT(*dom, HasSubstr("<table class=\"measures\">"));
  EXPECT_THAT(*dom, HasSubstr("<thead>"));
  EXPECT_THAT(*dom, HasSubstr("授信限制"));

  absl::StatusOr<browser::PdfInfo> info = browser::PrintAndInspect(html_path, dir + "/report.pdf");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->IsA4()) << info->width_pt << " x " << info->height_pt;
  EXPECT_GE(info->pages, 1);
}

}  // namespace
}  // namespace shixin::report
