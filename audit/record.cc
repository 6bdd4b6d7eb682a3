#include "audit/record.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

namespace {

// Payload primitives (audit/FORMAT.md): LEB128 varints, zigzag for signed, strings as varint
// length + bytes.
void PutVarint(uint64_t value, std::string* out) {
  char bytes[10];
  int n = 0;
  while (value >= 0x80) {
    bytes[n++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  bytes[n++] = static_cast<char>(value);
  out->append(bytes, n);
}
uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s.data(), s.size());
}

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
    if (!error_.empty()) return {};
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

}  // namespace

void EncodeQuery(const QueryRecord& r, std::string* out) {
  PutVarint(r.sequence, out);
  PutVarint(ZigZag(r.time_micros), out);
  PutVarint(r.opcode, out);
  PutString(r.caller, out);
  PutString(r.operator_id, out);
  PutString(r.matter, out);
  PutString(r.purpose, out);
  PutString(r.subject, out);
  PutVarint(r.kind, out);
  PutVarint(static_cast<uint8_t>(r.listing), out);
  PutString(r.agency_filter, out);
  PutString(r.scenario_filter, out);
  PutVarint(ZigZag(r.as_of), out);
  PutString(r.list_version, out);
  PutVarint(r.generation, out);
  PutVarint(r.delta_sequence, out);
  PutVarint(r.measures.size(), out);
  for (uint16_t m : r.measures) PutVarint(m, out);
  PutVarint(r.receipt_issued ? 1 : 0, out);
}

void EncodeFeedback(const FeedbackRecord& r, std::string* out) {
  PutVarint(r.sequence, out);
  PutVarint(ZigZag(r.time_micros), out);
  PutString(r.caller, out);
  PutString(r.operator_id, out);
  PutString(r.receipt, out);
  PutVarint(r.entries.size(), out);
  for (const FeedbackEntry& e : r.entries) {
    PutVarint(e.measure, out);
    PutVarint(static_cast<uint8_t>(e.outcome), out);
    PutString(e.reason, out);
  }
}

absl::StatusOr<QueryRecord> DecodeQuery(std::string_view payload) {
  PayloadReader in(payload);
  QueryRecord r;
  r.sequence = in.Varint("sequence");
  r.time_micros = in.Signed("time");
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
  r.list_version = in.String("list_version");
  r.generation = in.Varint("generation");
  r.delta_sequence = in.Varint("delta_sequence");
  const uint64_t n = in.Bounded("measures", payload.size());
  r.measures.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    r.measures.push_back(static_cast<uint16_t>(in.Bounded("measure", 65535)));
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
