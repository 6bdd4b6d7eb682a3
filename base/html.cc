#include "base/html.h"

#include "base/display_controls.h"

namespace shixin {
namespace {

// A4 with margins; tables split between rows and repeat their head on every page.
constexpr std::string_view kPrintCss = R"css(
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif;
       font-size: 10.5pt; line-height: 1.45; color: #111; margin: 0 auto; max-width: 182mm; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 0 0 3mm; page-break-inside: auto; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 0.3mm solid #777; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.en { color: #555; font-weight: normal; font-size: 0.9em; }
.note { color: #444; }
@media screen { body { padding: 8mm; } }
)css";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    // Controls, the characters that reorder a line and stray bytes as base/csv.h writes them
    // (x34 F5; a stray byte would break the page's charset=utf-8).
    if (const size_t n = AppendShownCharacter(text.substr(i), &out); n > 0) {
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void HtmlBegin(std::string_view title, std::string_view extra_css, std::string* out) {
  out->append("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
  out->append(HtmlEscape(title));
  out->append("</title>\n<style>");
  out->append(kPrintCss);
  out->append(extra_css);
  out->append("</style>\n</head>\n<body>\n");
}

void HtmlEnd(std::string* out) { out->append("</body>\n</html>\n"); }

}  // namespace shixin
