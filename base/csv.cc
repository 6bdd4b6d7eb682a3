#include "base/csv.h"

#include "base/display_controls.h"

namespace shixin {

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
  for (size_t i = 0; i < field.size();) {
    if (const size_t n = AppendShownCharacter(field.substr(i), &out); n > 0) {
      i += n;
      continue;
    }
    const char c = field[i++];
    if (quote && c == '"') out += '"';
    out += c;
  }
  if (quote) out += '"';
  return out;
}

}  // namespace shixin
