// The punishment notice's HTML in a real browser (headless Chromium): the DOM holds the title,
// the subject and the measures, and printing gives A4 pages.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "core/catalog.h"
#include "core/dataset.h"
#include "core/paths.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "notice/notice.h"
#include "tests/browser/render.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NoticeBrowserTest, RendersAndPrintsOnA4) {
  if (browser::ChromiumPath().empty()) GTEST_SKIP() << "chromium is not installed";
  auto snap =
      LoadDataDir(std::string(SHIXIN_TEST_SOURCE_DIR) + "/data/sample", LoadOptions{}, nullptr);
  ASSERT_TRUE(snap.ok()) << snap.status();
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(DefaultCatalogPath());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  NoticeInput in;
  in.record.time_micros = 1780000000LL * 1000000;  // 2026-05-29T04:26:40+08:00
  in.record.opcode = 4;
  in.record.caller = "hegang-housing";
  in.record.subject = "11010519491231002X";
  in.record.listing = audit::Listing::kListed;
  in.record.list_version = 0x00c0ffee12345678;
  in.record.generation = 3;
  in.record.measures = {7, 41};
  in.record.receipt_issued = true;
  in.receipt = "9f2c41d0-3-1048576";
  in.issuer = "鹤岗市住房保障局";
  in.catalog = &*catalog;
  in.date = 1780041600;
  absl::StatusOr<NoticeSubject> subject = NoticeSubjectFromList(**snap, *catalog, in.record);
  ASSERT_TRUE(subject.ok()) << subject.status();
  in.subject = std::move(*subject);

  const std::string dir = ::testing::TempDir() + "/notice_browser_" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  const std::string html_path = dir + "/notice.html";
  {
    std::ofstream out(html_path, std::ios::binary);
    out << RenderNoticeHtml(in);
  }
  absl::StatusOr<std::string> dom = browser::DumpDom(html_path);
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_THAT(*dom, HasSubstr("惩戒告知书</title>"));
  EXPECT_THAT(*dom, HasSubstr("张秀兰"));
  EXPECT_THAT(*dom, HasSubstr("1101051949****002X"));
  EXPECT_THAT(*dom, Not(HasSubstr("11010519491231002X")));
  EXPECT_THAT(*dom, HasSubstr("担任事业单位法定代表人限制"));
  EXPECT_THAT(*dom, HasSubstr("协助法院进行住宿宾馆饭店限制"));
  EXPECT_THAT(*dom, HasSubstr("(2015)鹤向法执字第00232号"));
  EXPECT_THAT(*dom, HasSubstr("<th>适用事由</th>"));

  absl::StatusOr<browser::PdfInfo> info = browser::PrintAndInspect(html_path, dir + "/notice.pdf");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->IsA4()) << info->width_pt << " x " << info->height_pt;
  EXPECT_GE(info->pages, 1);
}

}  // namespace
}  // namespace shixin
