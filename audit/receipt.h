// A receipt: the id an answer carries for its audit record (issue 12). Where the record is, a
// Receipt (node, segment file number, byte offset), is the daemon's business: a caller that
// saw it could tell from two of its own receipts how many records the other callers had written
// between them. So a receipt's text is "<node>-<32 hex>", the node (state_dir/node_id's first
// line, 8 lower-case hex digits: replicas route by it) and the segment and offset encrypted
// with the node's receipt key (ReceiptCipher): opaque, not ordered, and not forgeable (a text
// that does not decrypt to a position is no receipt of the node). Receipts issued before the
// node had a key are in the position form "<node>-<segment>-<offset>" (e.g.
// "9f2c41d0-3-1048576"), which ParseReceipt still reads; the audit's own records and tools also
// name records in it (Receipt::ToString()).
//
// Thread safety: plain values and pure functions; a ReceiptCipher may be used by any number of
// threads at once (each keeps its own cipher context).
#ifndef SHIXIN_AUDIT_RECEIPT_H_
#define SHIXIN_AUDIT_RECEIPT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shixin::audit {

// The longest receipt text of either form: a keyed one is 41 bytes.
inline constexpr size_t kMaxReceiptText = 41;

struct Receipt {
  uint32_t node = 0;
  uint32_t segment = 0;
  uint64_t offset = 0;

  // Returns the position form: node as 8 lower-case hex digits, segment and offset in decimal.
  // Not for callers (ReceiptCipher::AppendTo): the audit's records and admin tools use it.
  std::string ToString() const;
  // Appends the position form to `out`.
  void AppendTo(std::string* out) const;
  // Parses the position form only (a feedback record's stored receipt). Returns InvalidArgument
  // saying what is wrong otherwise (no leading zeros but "0", no sign). Receipts from callers
  // are read by ParseReceipt().
  static absl::StatusOr<Receipt> Parse(std::string_view text);

  friend bool operator==(const Receipt& a, const Receipt& b) {
    return a.node == b.node && a.segment == b.segment && a.offset == b.offset;
  }
};

// A node's receipt key (state_dir/node_id's second line, audit/node_id.h): AES-128 of one block,
// segment (u32 LE), offset (u64 LE) and 4 zero bytes; a block that decrypts to other than
// zeros there is no receipt of this key (a forgery finds one by chance 1 in 2^32 tries, and it
// must then land on a record boundary).
class ReceiptCipher {
 public:
  using Key = std::array<uint8_t, 16>;

  // `keyed_since_micros`: when the node took the key; records written before were issued
  // receipts in the position form.
  ReceiptCipher(const Key& key, int64_t keyed_since_micros);

  const Key& key() const { return key_; }
  int64_t keyed_since_micros() const { return keyed_since_micros_; }

  // Appends the keyed text of `receipt` to `out`: no allocation once `out` has room for 41
  // more bytes (it runs for every answer with a receipt).
  void AppendTo(const Receipt& receipt, std::string* out) const;
  std::string Text(const Receipt& receipt) const;
  // Returns the text the answer of a record written at `time_micros` carried: keyed from
  // keyed_since_micros(), the position form before.
  std::string IssuedText(const Receipt& receipt, int64_t time_micros) const;
  // Decrypts the 32 hex digits `hex` of a receipt of `node` into `*receipt`. Returns false when
  // they are not 32 lower-case hex digits or do not decrypt to a position.
  bool Open(uint32_t node, std::string_view hex, Receipt* receipt) const;

 private:
  Key key_;
  int64_t keyed_since_micros_;
  uint64_t id_;  // which key a thread's cipher contexts are set up for
};

struct ParsedReceipt {
  Receipt receipt;
  bool keyed = false;  // the keyed form (else the position form of receipts issued before it)
};

// Reads a receipt from a caller or a command line, of either form: the one place that does.
// Returns InvalidArgument saying what is wrong for text of neither form (at most 41 bytes);
// NotFound "receipt R: no record" for a keyed one that `cipher` does not open (nullptr: the
// node has no key), as for a position without a record: no answer tells a forgery from a
// receipt whose record is gone.
absl::StatusOr<ParsedReceipt> ParseReceipt(std::string_view text, const ReceiptCipher* cipher);

// Returns the node a receipt text of either form names (its 8 lower-case hex digits before the
// first '-'), or false when it names none; nothing else of it is checked. Tells a receipt of
// another replica (docs/replicas.md) from one without a record.
bool ReceiptNode(std::string_view text, uint32_t* node);

// Returns whether `text` has the keyed form's shape ("<8 chars>-<32 chars>"): a tool needs the
// key to read it.
bool LooksKeyed(std::string_view text);

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_RECEIPT_H_
