// CSV written for spreadsheets (the public export, the quarterly report): fields quoted as RFC
// 4180 says, text that a spreadsheet would run as a formula defused, and the byte order mark
// that spreadsheets on Chinese Windows need to read UTF-8.
//
// Thread safety: pure functions.
#ifndef SHIXIN_BASE_CSV_H_
#define SHIXIN_BASE_CSV_H_

#include <string>
#include <string_view>

namespace shixin {

// The UTF-8 byte order mark a CSV file starts with: without it, a spreadsheet on Chinese
// Windows reads the file as GBK and garbles every Chinese name.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Returns `field` as one CSV field: as it is, or in double quotes (inner quotes doubled) when
// it holds a comma, a double quote, CR or LF, or starts or ends with a space. A field a
// spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) gets a leading
// apostrophe, which spreadsheets show as text (OWASP's CSV injection advice). Control
// characters other than tab, LF and CR (C0 and DEL: terminal escapes, NUL) and the display
// controls (base/display_controls.h: line separators, direction overrides and marks) are written
// as U+FFFD, the replacement character, and so is each byte that is not UTF-8. Fields from others
// (courts' records, callers' reasons) go through here.
std::string CsvField(std::string_view field);

}  // namespace shixin

#endif  // SHIXIN_BASE_CSV_H_
