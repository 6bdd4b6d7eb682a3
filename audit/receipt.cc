#include "audit/receipt.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/terminal.h"

namespace shixin::audit {
namespace {

constexpr size_t kMaxText = kMaxReceiptText;
constexpr size_t kNodeDigits = 8;
constexpr size_t kKeyedDigits = 32;
constexpr char kHex[] = "0123456789abcdef";

// Returns the value of the lower-case hex digit `c`, or -1.
int HexValue(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Parses 8 lower-case hex digits into `*node`.
bool ParseNode(std::string_view text, uint32_t* node) {
  if (text.size() != kNodeDigits) return false;
  uint32_t value = 0;
  for (const char c : text) {
    const int digit = HexValue(c);
    if (digit < 0) return false;
    value = value << 4 | static_cast<uint32_t>(digit);
  }
  *node = value;
  return true;
}

// Writes the node's 8 hex digits at `p`; returns the end.
char* PutNode(uint32_t node, char* p) {
  for (size_t i = 0; i < kNodeDigits; ++i) *p++ = kHex[(node >> (28 - 4 * i)) & 0xF];
  return p;
}

std::atomic<uint64_t> next_cipher_id{1};

// One thread's AES-128-ECB contexts (no padding), set up for the key of the cipher `id`: made
// once per thread and set up again only when another key is used, so that a receipt costs no
// allocation.
struct ThreadContexts {
  EVP_CIPHER_CTX* encrypt = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* decrypt = EVP_CIPHER_CTX_new();
  uint64_t id = 0;

  ThreadContexts() = default;
  ThreadContexts(const ThreadContexts&) = delete;
  ThreadContexts& operator=(const ThreadContexts&) = delete;
  ~ThreadContexts() {
    EVP_CIPHER_CTX_free(encrypt);
    EVP_CIPHER_CTX_free(decrypt);
  }
};

// Returns this thread's contexts set up for `key` (cipher `id`), or nullptr if OpenSSL failed.
ThreadContexts* ContextsFor(uint64_t id, const ReceiptCipher::Key& key) {
  thread_local ThreadContexts contexts;
  if (contexts.id == id) return &contexts;
  contexts.id = 0;
  if (contexts.encrypt == nullptr || contexts.decrypt == nullptr ||
      EVP_EncryptInit_ex(contexts.encrypt, EVP_aes_128_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(contexts.encrypt, 0) != 1 ||
      EVP_DecryptInit_ex(contexts.decrypt, EVP_aes_128_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(contexts.decrypt, 0) != 1) {
    return nullptr;
  }
  contexts.id = id;
  return &contexts;
}

// AES-128 of one block through `ctx`; false if OpenSSL failed.
bool Block(EVP_CIPHER_CTX* ctx, bool encrypt, const uint8_t in[16], uint8_t out[16]) {
  int n = 0;
  return (encrypt ? EVP_EncryptUpdate(ctx, out, &n, in, 16)
                  : EVP_DecryptUpdate(ctx, out, &n, in, 16)) == 1 &&
         n == 16;
}

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

// Returns how an error quotes the receipt `text` a client sent: its first kMaxText bytes, with
// controls and bytes that are not UTF-8 escaped (TerminalSafe): the message is UTF-8 text.
std::string Shown(std::string_view text) { return TerminalSafe(text.substr(0, kMaxText)); }

// Returns how the refusals of a malformed receipt quote `text`: in double quotes, escaped
// (TerminalSafe), whole up to twice a receipt's length.
std::string QuotedWhole(std::string_view text) {
  constexpr size_t kQuoted = 2 * kMaxText;
  return absl::StrCat("\"", TerminalSafe(text.substr(0, kQuoted)),
                      text.size() > kQuoted ? "..." : "", "\"");
}

// Returns the refusal of a receipt `text` that holds a byte that is not ASCII (a full-width
// digit, a Unicode hyphen, an invisible space: x34 F7), else OK: said before its length.
absl::Status CheckAscii(std::string_view text) {
  const auto bad = std::find_if(text.begin(), text.end(),
                                [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (bad == text.end()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "receipt ", QuotedWhole(text), " holds a character that is not ASCII at byte ",
      bad - text.begin(), " (a receipt is lower-case hex digits, decimal digits and '-')"));
}

// Returns the refusal of a receipt `text` longer than any: quoted whole if it is short (what
// makes it long is most often white space read back with it, which the quote shows escaped).
absl::Status TooLong(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  return absl::InvalidArgumentError(absl::StrCat(
      "receipt ", QuotedWhole(text), " is ", text.size(), " bytes, more than a receipt's ",
      kMaxText,
      space(text.front()) || space(text.back()) ? " (white space at its start or end)" : ""));
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
  char* p = PutNode(node, text);
  *p++ = '-';
  p = PutDecimal(segment, p);
  *p++ = '-';
  p = PutDecimal(offset, p);
  out->append(text, static_cast<size_t>(p - text));
}

absl::StatusOr<Receipt> Receipt::Parse(std::string_view text) {
  SHIXIN_RETURN_IF_ERROR(CheckAscii(text));
  if (text.size() > kMaxText) return TooLong(text);
  const std::string shown = Shown(text);
  const size_t first = text.find('-');
  const size_t second = first == std::string_view::npos ? first : text.find('-', first + 1);
  if (second == std::string_view::npos || text.find('-', second + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\" is not of the form <node>-<segment>-<offset>"));
  }
  Receipt receipt;
  if (!ParseNode(text.substr(0, first), &receipt.node)) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\": the node must be 8 lower-case hex digits"));
  }
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

ReceiptCipher::ReceiptCipher(const Key& key, int64_t keyed_since_micros)
    : key_(key),
      keyed_since_micros_(keyed_since_micros),
      id_(next_cipher_id.fetch_add(1, std::memory_order_relaxed)) {}

void ReceiptCipher::AppendTo(const Receipt& receipt, std::string* out) const {
  uint8_t block[16] = {};
  for (int i = 0; i < 4; ++i) block[i] = static_cast<uint8_t>(receipt.segment >> (8 * i));
  for (int i = 0; i < 8; ++i) block[4 + i] = static_cast<uint8_t>(receipt.offset >> (8 * i));
  uint8_t sealed[16] =
      {};  // OpenSSL failing (it does not for ECB) leaves a text that opens to nothing
  if (ThreadContexts* contexts = ContextsFor(id_, key_); contexts != nullptr) {
    Block(contexts->encrypt, true, block, sealed);
  }
  char text[kMaxText];
  char* p = PutNode(receipt.node, text);
  *p++ = '-';
  for (const uint8_t b : sealed) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 0xF];
  }
  out->append(text, static_cast<size_t>(p - text));
}

std::string ReceiptCipher::Text(const Receipt& receipt) const {
  std::string text;
  AppendTo(receipt, &text);
  return text;
}

std::string ReceiptCipher::IssuedText(const Receipt& receipt, int64_t time_micros) const {
  return time_micros >= keyed_since_micros_ ? Text(receipt) : receipt.ToString();
}

bool ReceiptCipher::Open(uint32_t node, std::string_view hex, Receipt* receipt) const {
  if (hex.size() != kKeyedDigits) return false;
  uint8_t sealed[16];
  for (size_t i = 0; i < 16; ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    sealed[i] = static_cast<uint8_t>(high << 4 | low);
  }
  ThreadContexts* contexts = ContextsFor(id_, key_);
  uint8_t block[16];
  if (contexts == nullptr || !Block(contexts->decrypt, false, sealed, block)) return false;
  if (block[12] != 0 || block[13] != 0 || block[14] != 0 || block[15] != 0) return false;
  receipt->node = node;
  receipt->segment = 0;
  receipt->offset = 0;
  for (int i = 3; i >= 0; --i) receipt->segment = receipt->segment << 8 | block[i];
  for (int i = 7; i >= 0; --i) receipt->offset = receipt->offset << 8 | block[4 + i];
  return true;
}

bool LooksKeyed(std::string_view text) {
  return text.size() == kNodeDigits + 1 + kKeyedDigits && text[kNodeDigits] == '-' &&
         text.find('-', kNodeDigits + 1) == std::string_view::npos;
}

bool ReceiptNode(std::string_view text, uint32_t* node) {
  const size_t dash = text.find('-');
  return dash != std::string_view::npos && ParseNode(text.substr(0, dash), node);
}

absl::StatusOr<ParsedReceipt> ParseReceipt(std::string_view text, const ReceiptCipher* cipher) {
  SHIXIN_RETURN_IF_ERROR(CheckAscii(text));
  if (text.size() > kMaxText) return TooLong(text);
  const std::string shown = Shown(text);
  const size_t dashes = static_cast<size_t>(std::count(text.begin(), text.end(), '-'));
  ParsedReceipt parsed;
  if (dashes == 2) {
    absl::StatusOr<Receipt> position = Receipt::Parse(text);
    if (!position.ok()) return position.status();
    parsed.receipt = *position;
    return parsed;
  }
  const size_t dash = text.find('-');
  if (dashes != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "receipt \"", shown,
        "\" is not of the form <node>-<32 hex digits> (or <node>-<segment>-<offset>)"));
  }
  uint32_t node = 0;
  if (!ParseNode(text.substr(0, dash), &node)) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\": the node must be 8 lower-case hex digits"));
  }
  const std::string_view hex = text.substr(dash + 1);
  if (hex.size() != kKeyedDigits ||
      !std::all_of(hex.begin(), hex.end(), [](char c) { return HexValue(c) >= 0; })) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt \"", shown, "\": after the node must come 32 lower-case hex digits"));
  }
  parsed.keyed = true;
  if (cipher == nullptr || !cipher->Open(node, hex, &parsed.receipt)) {
    return absl::NotFoundError(absl::StrCat("receipt ", shown, ": no record"));
  }
  return parsed;
}

}  // namespace shixin::audit
