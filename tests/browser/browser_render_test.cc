#include <string>

#include "gtest/gtest.h"
#include "tests/browser/render.h"

namespace shixin::browser {
namespace {

TEST(InspectPdfTest, CountsPagesAndReadsTheMediaBox) {
  const std::string pdf =
      "%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 /Kids [3 0 R 4 0 R] >> endobj\n"
      "3 0 obj << /Type /Page /MediaBox [0 0 594.95996 841.91998] >> endobj\n"
      "4 0 obj << /Type/Page /MediaBox [0 0 594.95996 841.91998] >> endobj\n%%EOF";
  absl::StatusOr<PdfInfo> info = InspectPdf(pdf);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->pages, 2);
  EXPECT_TRUE(info->IsA4());
}

TEST(InspectPdfTest, LetterIsNotA4) {
  absl::StatusOr<PdfInfo> info = InspectPdf("%PDF-1.4\n<< /Type /Page /MediaBox [0 0 612 792] >>");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->pages, 1);
  EXPECT_FALSE(info->IsA4());
}

TEST(InspectPdfTest, RejectsWhatIsNotAPdf) {
  EXPECT_FALSE(InspectPdf("<html>").ok());
  EXPECT_FALSE(InspectPdf("%PDF-1.4\n<< /Type /Page >>").ok());  // no MediaBox
}

}  // namespace
}  // namespace shixin::browser
