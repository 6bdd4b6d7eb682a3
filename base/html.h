// What the printable HTML pages of issue 12 share (the quarterly report, the punishment
// notice): escaping, and a self-contained page frame whose style prints on A4 (no external
// assets; tables break across pages and repeat their header row).
//
// Thread safety: pure functions.
#ifndef SHIXIN_BASE_HTML_H_
#define SHIXIN_BASE_HTML_H_

#include <string>
#include <string_view>

namespace shixin {

// Returns `text` with &, <, >, " and ' escaped for HTML text and attribute values, and written
// as U+FFFD as base/csv.h writes them: each byte that is not UTF-8, the C0 controls but tab and
// line breaks, DEL, and the display controls (base/display_controls.h).
std::string HtmlEscape(std::string_view text);

// Appends the start of a page (doctype, <html lang="zh-CN">, <head> with `title` and the A4
// print style, <body>) to `out`; `extra_css` is appended to the style.
void HtmlBegin(std::string_view title, std::string_view extra_css, std::string* out);
// Appends the end of the page to `out`.
void HtmlEnd(std::string* out);

}  // namespace shixin

#endif  // SHIXIN_BASE_HTML_H_
