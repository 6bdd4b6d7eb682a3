#include "audit/receipt.h"

#include <charconv>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"

namespace shixin::audit {
namespace {

constexpr size_t kMaxText = 40;

// Parses a decimal field without sign or leading zeros (but "0") into `*value`. Returns OK, or
// InvalidArgument whose message completes "the segment " or "the offset ".
absl::Status ParseDecimal(std::string_view text, uint64_t max, uint64_t* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return absl::InvalidArgumentError("is not a decimal number");
  }
  if (text.size() > 1 && text[0] == '0') {  // one receipt has one text
    return absl::InvalidArgumentError("has a leading zero");
  }
  if (ec != std::errc() || *value > max) {
    return absl::InvalidArgumentError(absl::StrCat("is out of range (at most ", max, ")"));
  }
  return absl::OkStatus();
}

// Writes `value` in decimal at `p` (at most 20 digits); returns the end.
char* PutDecimal(uint64_t value, char* p) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

}  // namespace

std::string Receipt::ToString() const {
  std::string text;
  AppendTo(&text);
  return text;
}

void Receipt::AppendTo(std::string* out) const {
  // By hand: this runs for every audited answer (StrFormat was ~3 % of the daemon's CPU at
  // depth 16, StrCat and its string ~1 %).
  char text[kMaxText];
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) text[i] = kHex[(node >> (28 - 4 * i)) & 0xF];
  text[8] = '-';
  char* p = PutDecimal(segment, text + 9);
  *p++ = '-';
  p = PutDecimal(offset, p);
  out->append(text, static_cast<size_t>(p - text));
}

absl::StatusOr<Receipt> Receipt::Parse(std::string_view text) {
  const std::string shown(text.substr(0, kMaxText));
  if (text.size() > kMaxText) {
    return absl::InvalidArgumentError(absl::StrCat("receipt \"", shown, "...\" is too long"));
  }
  const size_t first = text.find('-');
  const size_t second = first == std::string_view::npos ? first : text.find('-', first + 1);
  if (second == std::string_view::npos || text.find('-', second + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\" is not of the form <node>-<segment>-<offset>"));
  }
  const std::string_view node = text.substr(0, first);
  Receipt receipt;
  uint64_t node_value = 0;
  if (node.size() != 8 ||
      std::from_chars(node.data(), node.data() + node.size(), node_value, 16).ptr !=
          node.data() + node.size() ||
      node.find_first_of("ABCDEF+") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\": the node must be 8 lower-case hex digits"));
  }
  receipt.node = static_cast<uint32_t>(node_value);
  uint64_t segment = 0;
  if (absl::Status s = ParseDecimal(text.substr(first + 1, second - first - 1),
                                    std::numeric_limits<uint32_t>::max(), &segment);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\": the segment ", s.message()));
  }
  receipt.segment = static_cast<uint32_t>(segment);
  if (absl::Status s = ParseDecimal(text.substr(second + 1), std::numeric_limits<uint64_t>::max(),
                                    &receipt.offset);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\": the offset ", s.message()));
  }
  return receipt;
}

}  // namespace shixin::audit
