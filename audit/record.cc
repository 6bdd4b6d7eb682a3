#include "audit/record.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/coding.h"
#include "base/status_macros.h"

namespace shixin::audit {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApplied:
      return "applied";
    case Outcome::kNotApplied:
      return "not_applied";
    case Outcome::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

bool OutcomeFromName(std::string_view name, Outcome* outcome) {
  for (Outcome o : {Outcome::kApplied, Outcome::kNotApplied, Outcome::kCancelled}) {
    if (name == OutcomeName(o)) {
      *outcome = o;
      return true;
    }
  }
  return false;
}

std::string ListVersionText(const QueryRecord& record) {
  return absl::StrFormat("%016x", record.list_version);
}

namespace {

// Payload primitives (audit/FORMAT.md): LEB128 varints, zigzag for signed, strings as varint
// length + bytes.
constexpr size_t kMaxVarint = 10;

// Writes a payload through a cursor into `out`, grown once by the most the payload can take
// (one append per field cost more than the rest of a record's framing).
class PayloadWriter {
 public:
  PayloadWriter(size_t max_size, std::string* out) : out_(out) {
    const size_t start = out->size();
    out->resize(start + max_size);
    p_ = out->data() + start;
    end_ = p_ + max_size;
  }
  // Cuts `out` to what was written.
  ~PayloadWriter() { out_->resize(static_cast<size_t>(p_ - out_->data())); }
  PayloadWriter(const PayloadWriter&) = delete;
  PayloadWriter& operator=(const PayloadWriter&) = delete;

  // REQUIRES (both): room left in the size the writer was made with (a field added to an
  // encoder without adding it to that size fails here in the debug and sanitizer builds).
  void Varint(uint64_t value) {
    assert(end_ - p_ >= static_cast<ptrdiff_t>(kMaxVarint));
    while (value >= 0x80) {
      *p_++ = static_cast<char>(value | 0x80);
      value >>= 7;
    }
    *p_++ = static_cast<char>(value);
  }
  void String(std::string_view s) {
    Varint(s.size());
    assert(static_cast<size_t>(end_ - p_) >= s.size());
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void Fixed64(uint64_t value) {
    assert(end_ - p_ >= 8);
    EncodeLittleEndian32(static_cast<uint32_t>(value), p_);
    EncodeLittleEndian32(static_cast<uint32_t>(value >> 32), p_ + 4);
    p_ += 8;
  }
  // Writes `bytes` bytes with bit m % 8 of byte m / 8 set for each m in `numbers`.
  // REQUIRES: `numbers` ascending, each < 8 * bytes.
  void Bitmap(const std::vector<uint16_t>& numbers, size_t bytes) {
    assert(static_cast<size_t>(end_ - p_) >= bytes);
    std::memset(p_, 0, bytes);
    // 64 bits at a time in a register: a read-modify-write of the buffer per number would wait
    // on the store before it (most numbers share a byte).
    uint64_t word = 0;
    size_t index = 0;
    for (uint16_t m : numbers) {
      if (m / 64 != index) {
        StoreWord(word, index, bytes);
        index = m / 64;
        word = 0;
      }
      word |= uint64_t{1} << (m % 64);
    }
    StoreWord(word, index, bytes);
    p_ += bytes;
  }

 private:
  // Writes the bytes of 64-bit word `index` of a bitmap of `bytes` bytes at p_, low first.
  void StoreWord(uint64_t word, size_t index, size_t bytes) {
    const size_t n = std::min<size_t>(8, bytes - 8 * index);
    for (size_t i = 0; i < n; ++i) p_[8 * index + i] = static_cast<char>(word >> (8 * i));
  }

  std::string* const out_;
  char* p_;
  const char* end_;
};

// From format 3 a query's measure numbers may be a bitmap (audit/FORMAT.md).
constexpr uint32_t kBitmapFormat = 3;
constexpr size_t kVersionDigits = 16;
// A bitmap covers measure numbers 0..65535.
constexpr uint64_t kMaxBitmapBytes = 65536 / 8;

size_t VarintLength(uint16_t v) { return 1 + (v >= 0x80 ? 1 : 0) + (v >= 0x4000 ? 1 : 0); }

// Returns the bytes of the bitmap form of `measures`, or 0 when that form is not the one to
// write: the numbers not strictly ascending (a bitmap has no order), or the list as short.
size_t BitmapBytes(const std::vector<uint16_t>& measures) {
  if (measures.empty()) return 0;
  size_t list = 0;
  for (size_t i = 0; i < measures.size(); ++i) {
    if (i > 0 && measures[i] <= measures[i - 1]) return 0;
    list += VarintLength(measures[i]);
  }
  const size_t bitmap = measures.back() / 8 + 1;
  return bitmap < list ? bitmap : 0;
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Reads the payload front to back; the first failure names its field and sticks.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  uint64_t Varint(const char* field) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Fail(field, "truncated");
      const auto byte = static_cast<unsigned char>(*p_++);
      if (shift == 63 && byte > 1) return Fail(field, "varint overflow");
      value |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return Fail(field, "varint too long");
  }
  uint64_t Bounded(const char* field, uint64_t max) {
    const uint64_t v = Varint(field);
    if (v > max) return Fail(field, "out of range");
    return v;
  }
  int64_t Signed(const char* field) { return UnZigZag(Varint(field)); }
  std::string_view String(const char* field) {
    const uint64_t n = Varint(field);
    return error_.empty() ? Bytes(field, n) : std::string_view();
  }
  std::string_view Bytes(const char* field, uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) {
      Fail(field, "truncated");
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  uint64_t Fail(const char* field, const char* why) {
    if (error_.empty()) error_ = absl::StrCat(field, ": ", why);
    p_ = end_;
    return 0;
  }
  bool ok() const { return error_.empty(); }
  absl::Status Finish(const char* what) {
    if (error_.empty() && p_ != end_) error_ = "trailing bytes";
    if (error_.empty()) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat("bad ", what, " record payload: ", error_));
  }

 private:
  const char* p_;
  const char* end_;
  std::string error_;
};

// Returns the version whose 16 lower-case hex digits are `digits` (formats 1-3 wrote them so),
// failing `in` for any other text: one encoding per version.
uint64_t ParseVersionDigits(std::string_view digits, PayloadReader* in) {
  if (!in->ok()) return 0;
  if (digits.size() != kVersionDigits) return in->Fail("list_version", "not 16 hex digits");
  uint64_t v = 0;
  for (const char c : digits) {
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return in->Fail("list_version", "not 16 hex digits");
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

void EncodeQuery(const QueryRecord& r, const QueryBase& base, std::string* out) {
  constexpr size_t kVarints = 19;  // the fields below, measures apart
  const uint32_t format = base.format;
  PayloadWriter w(kVarints * kMaxVarint + 3 * r.measures.size() + r.caller.size() +
                      r.operator_id.size() + r.matter.size() + r.purpose.size() + r.subject.size() +
                      r.agency_filter.size() + r.scenario_filter.size() + kVersionDigits,
                  out);
  if (format >= kRelativeQueryFormat) {
    assert(r.sequence >= base.first_sequence);
    w.Varint(r.sequence - base.first_sequence);
    // Wrapping arithmetic: the decoder adds it back the same way.
    w.Varint(ZigZag(static_cast<int64_t>(static_cast<uint64_t>(r.time_micros) -
                                         static_cast<uint64_t>(base.created_micros))));
  } else {
    w.Varint(r.sequence);
    w.Varint(ZigZag(r.time_micros));
  }
  w.Varint(r.opcode);
  w.String(r.caller);
  w.String(r.operator_id);
  w.String(r.matter);
  w.String(r.purpose);
  w.String(r.subject);
  w.Varint(r.kind);
  w.Varint(static_cast<uint8_t>(r.listing));
  w.String(r.agency_filter);
  w.String(r.scenario_filter);
  w.Varint(ZigZag(r.as_of));
  if (format >= kRelativeQueryFormat) {
    w.Fixed64(r.list_version);
  } else {
    w.String(ListVersionText(r));  // formats 1-3: only tests and the fuzzer write them
  }
  w.Varint(r.generation);
  w.Varint(r.delta_sequence);
  w.Varint(r.measures.size());
  const size_t bitmap = format >= kBitmapFormat ? BitmapBytes(r.measures) : 0;
  if (format >= kBitmapFormat && !r.measures.empty()) w.Varint(bitmap);
  if (bitmap > 0) {
    w.Bitmap(r.measures, bitmap);
  } else {
    for (uint16_t m : r.measures) w.Varint(m);
  }
  w.Varint(r.receipt_issued ? 1 : 0);
}

void EncodeFeedback(const FeedbackRecord& r, std::string* out) {
  constexpr size_t kVarints = 6;  // the fields below, entries apart
  size_t max_size =
      kVarints * kMaxVarint + r.caller.size() + r.operator_id.size() + r.receipt.size();
  for (const FeedbackEntry& e : r.entries) max_size += 3 + 1 + kMaxVarint + e.reason.size();
  PayloadWriter w(max_size, out);
  w.Varint(r.sequence);
  w.Varint(ZigZag(r.time_micros));
  w.String(r.caller);
  w.String(r.operator_id);
  w.String(r.receipt);
  w.Varint(r.entries.size());
  for (const FeedbackEntry& e : r.entries) {
    w.Varint(e.measure);
    w.Varint(static_cast<uint8_t>(e.outcome));
    w.String(e.reason);
  }
}

absl::StatusOr<QueryRecord> DecodeQuery(std::string_view payload, const QueryBase& base) {
  const uint32_t format = base.format;
  PayloadReader in(payload);
  QueryRecord r;
  r.sequence = in.Varint("sequence");
  r.time_micros = in.Signed("time");
  if (format >= kRelativeQueryFormat) {
    if (r.sequence > ~uint64_t{0} - base.first_sequence) in.Fail("sequence", "out of range");
    r.sequence += base.first_sequence;
    r.time_micros = static_cast<int64_t>(static_cast<uint64_t>(r.time_micros) +
                                         static_cast<uint64_t>(base.created_micros));
  }
  r.opcode = static_cast<uint8_t>(in.Bounded("opcode", 255));
  r.caller = in.String("caller");
  r.operator_id = in.String("operator");
  r.matter = in.String("matter");
  r.purpose = in.String("purpose");
  r.subject = in.String("subject");
  r.kind = static_cast<uint8_t>(in.Bounded("kind", 1));
  const uint64_t listing = in.Bounded("listing", 3);
  if (listing == 0) in.Fail("listing", "out of range");
  r.listing = static_cast<Listing>(listing);
  r.agency_filter = in.String("agency_filter");
  r.scenario_filter = in.String("scenario_filter");
  r.as_of = in.Signed("as_of");
  if (format >= kRelativeQueryFormat) {
    const std::string_view bytes = in.Bytes("list_version", 8);
    if (in.ok()) r.list_version = DecodeLittleEndian64(bytes.data());
  } else {
    r.list_version = ParseVersionDigits(in.String("list_version"), &in);
  }
  r.generation = in.Varint("generation");
  r.delta_sequence = in.Varint("delta_sequence");
  // A listed measure takes a byte at least, a measure of a bitmap a bit.
  const uint64_t n =
      in.Bounded("measures", format >= kBitmapFormat ? 8 * payload.size() : payload.size());
  const uint64_t bitmap =
      format >= kBitmapFormat && n > 0 ? in.Bounded("measures.bitmap", kMaxBitmapBytes) : 0;
  r.measures.reserve(n);
  if (bitmap > 0) {
    const std::string_view bits = in.Bytes("measures.bitmap", bitmap);
    for (size_t i = 0; i < bits.size(); ++i) {
      const auto byte = static_cast<unsigned char>(bits[i]);
      for (int b = 0; b < 8; ++b) {
        if ((byte >> b & 1) != 0) r.measures.push_back(static_cast<uint16_t>(8 * i + b));
      }
    }
  } else {
    if (n > payload.size()) in.Fail("measures", "out of range");
    for (uint64_t i = 0; i < n && in.ok(); ++i) {
      r.measures.push_back(static_cast<uint16_t>(in.Bounded("measure", 65535)));
    }
  }
  // One encoding per list: the form and the bitmap's size are those the encoder chooses.
  if (format >= kBitmapFormat && n > 0 &&
      (r.measures.size() != n || BitmapBytes(r.measures) != bitmap)) {
    in.Fail("measures.bitmap", "not the encoding of its measures");
  }
  r.receipt_issued = in.Bounded("receipt_issued", 1) != 0;
  SHIXIN_RETURN_IF_ERROR(in.Finish("query"));
  return r;
}

absl::StatusOr<FeedbackRecord> DecodeFeedback(std::string_view payload) {
  PayloadReader in(payload);
  FeedbackRecord r;
  r.sequence = in.Varint("sequence");
  r.time_micros = in.Signed("time");
  r.caller = in.String("caller");
  r.operator_id = in.String("operator");
  r.receipt = in.String("receipt");
  const uint64_t n = in.Bounded("entries", payload.size());
  r.entries.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    FeedbackEntry e;
    e.measure = static_cast<uint16_t>(in.Bounded("measure", 65535));
    e.outcome = static_cast<Outcome>(in.Bounded("outcome", 2));
    e.reason = in.String("reason");
    r.entries.push_back(e);
  }
  SHIXIN_RETURN_IF_ERROR(in.Finish("feedback"));
  return r;
}

}  // namespace shixin::audit
