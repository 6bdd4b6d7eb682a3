// A harness for the browser tests of issue 12: renders an HTML file in headless Chromium (the
// Debian package `chromium`) to its DOM after scripts and layout, to a PNG screenshot, and to a
// PDF as printing would, with a timeout; and reads what a test checks in the PDF (paper size,
// page count) from its bytes. Used by the quarterly report's and the punishment notice's tests.
//
// Thread safety: the functions are reentrant (each run has its own Chromium profile).
#ifndef SHIXIN_TESTS_BROWSER_RENDER_H_
#define SHIXIN_TESTS_BROWSER_RENDER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shixin::browser {

// Returns the Chromium binary: $SHIXIN_CHROMIUM if set, else /usr/bin/chromium; "" if that is
// not executable (a test then skips: GTEST_SKIP).
std::string ChromiumPath();

// `html_path` is a file, or an http:// URL (a page of a live daemon on loopback).

// How long Chromium may run by default: a cold start, its files read back from disk on a
// loaded machine, once took over 20 s in CI (a page renders in about a second once it runs).
inline constexpr absl::Duration kChromiumTimeout = absl::Seconds(60);

// Returns the DOM of `html_path` as Chromium serialises it once the page has loaded
// (--dump-dom). DeadlineExceeded if Chromium runs longer than `timeout` (it is killed);
// Internal with its exit status otherwise.
absl::StatusOr<std::string> DumpDom(const std::string& html_path,
                                    absl::Duration timeout = kChromiumTimeout);

// Prints `html_path` to `pdf_path` (no header or footer; the page's @page rules apply) and
// returns the PDF's bytes. Errors as DumpDom(), or NotFound if no PDF was written.
absl::StatusOr<std::string> PrintToPdf(const std::string& html_path, const std::string& pdf_path,
                                       absl::Duration timeout = kChromiumTimeout);

// Writes a screenshot of `html_path` at `width` x `height` CSS pixels to `png_path`.
absl::Status Screenshot(const std::string& html_path, const std::string& png_path, int width,
                        int height, absl::Duration timeout = kChromiumTimeout);

struct PdfInfo {
  int pages = 0;        // page objects (/Type /Page)
  double width_pt = 0;  // the first MediaBox, in points
  double height_pt = 0;
  // Returns whether the first page is A4 portrait (595 x 842 pt, within 1 pt).
  bool IsA4() const;
};

// Returns what `pdf` says of its pages (Chromium writes page objects and MediaBoxes
// uncompressed). InvalidArgument if it is not a PDF or has no MediaBox.
absl::StatusOr<PdfInfo> InspectPdf(std::string_view pdf);

// Returns InspectPdf() of PrintToPdf(html_path, pdf_path): what the browser printed of a page.
absl::StatusOr<PdfInfo> PrintAndInspect(const std::string& html_path, const std::string& pdf_path);

}  // namespace shixin::browser

#endif  // SHIXIN_TESTS_BROWSER_RENDER_H_
