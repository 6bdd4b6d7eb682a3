#include "base/csv.h"

#include "base/display_controls.h"
#include "base/utf8.h"

namespace shixin {
namespace {}  // namespace

std::string CsvField(std::string_view field) {
  constexpr std::string_view kFormulaStart = "=+-@\t\r";
  const bool formula =
      !field.empty() && kFormulaStart.find(field.front()) != std::string_view::npos;
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  std::string out;
  out.reserve(field.size() + 3);
  if (quote) out += '"';
  if (formula) out += '\'';
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (IsStrayControl(c)) {
      out.append(kReplacementCharacter);
      continue;
    }
    if (const DisplayControl d = DisplayControlAt(field.substr(i)); d.length > 0) {
      out.append(kReplacementCharacter);
      i += d.length - 1;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      // A byte that is not UTF-8 would make the file unreadable to a strict UTF-8 reader.
      const size_t n = Utf8SequenceAt(field.substr(i));
      if (n == 0) {
        out.append(kReplacementCharacter);
      } else {
        out.append(field.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    if (quote && c == '"') out += '"';
    out += c;
  }
  if (quote) out += '"';
  return out;
}

}  // namespace shixin
