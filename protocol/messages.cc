#include "protocol/messages.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <span>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/coding.h"
#include "base/enum_names.h"
#include "base/status_macros.h"
#include "protocol/codec.h"

namespace shixin::wire {
namespace {

using codec::Count16;
using codec::Count8;
using codec::PutI64;
using codec::PutStr;
using codec::PutStr16;
using codec::PutStr8;
using codec::PutU16;
using codec::PutU32;
using codec::PutU64;
using codec::PutU8;
using codec::Reader;

// ---------------------------------------------------------------------------------------------
// Encoding.

uint8_t OptionalRole(const std::optional<Role>& role) {
  return role ? static_cast<uint8_t>(*role) : kNoRole;
}

void PutRoleEntries(const std::vector<RoleInfo>& entries, std::string* out) {
  size_t n = Count16(entries.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    const RoleInfo& e = entries[i];
    PutU8(static_cast<uint8_t>(e.role), out);
    PutStr8(e.id, out);
    PutStr16(e.name, out);
    PutU8(e.listed ? 1 : 0, out);
  }
}

// Version 2's listing stretch: since (0 = since ever), until (0 = no known end).
void PutStretch(int64_t since, int64_t until, std::string* out) {
  PutI64(since, out);
  PutI64(WireUntil(until), out);
}

void PutSubject(const CheckResult& s, uint8_t version, std::string* out) {
  PutStr8(s.id, out);
  PutU8(static_cast<uint8_t>(s.kind), out);
  PutU8(static_cast<uint8_t>((s.listed ? kSubjectListed : 0) | (s.related ? kSubjectRelated : 0)),
        out);
  if (version >= 2) PutStretch(s.since, s.until, out);  // 0, 0 unless listed (core)
  PutStr16(s.name, out);
  PutRoleEntries(s.roles, out);
  PutRoleEntries(s.officers, out);
}

void PutBasis(const Basis& b, std::string* out) {
  PutU8(static_cast<uint8_t>(b.type), out);
  PutU8(OptionalRole(b.role), out);
  PutStr8(b.via, out);
  PutStr16(b.via_name, out);
  PutU8(OptionalRole(b.via_role), out);
  PutStr8(b.officer, out);
  PutStr16(b.officer_name, out);
}

// A measure's entry: its head (MeasureHeads), then its bases.
void PutMeasureHead(int no, Effect effect, std::string_view agency, std::string_view agency_name,
                    std::string_view title, std::string* out) {
  PutU16(static_cast<uint16_t>(no), out);
  PutU8(static_cast<uint8_t>(effect), out);
  PutStr8(agency, out);
  PutStr16(agency_name, out);
  PutStr16(title, out);
}
void PutBases(std::span<const Basis> basis, std::string* out) {
  size_t n = Count8(basis.size());
  PutU8(static_cast<uint8_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutBasis(basis[i], out);
}

// The length prefix of a case's text: str32 for a long text, else str16.
constexpr int TextPrefix(const CaseField& f) { return f.long_text ? 4 : 2; }

// A case's field: a text as TextPrefix says, a date as u32, age and sex as u8.
void PutCaseField(const CaseField& f, std::string_view text, std::string* out) {
  PutStr(TextPrefix(f), text, out);
}
void PutCaseField(const CaseField&, uint32_t date, std::string* out) { PutU32(date, out); }
void PutCaseField(const CaseField&, uint8_t n, std::string* out) { PutU8(n, out); }
void PutCaseField(const CaseField&, Sex sex, std::string* out) {
  PutU8(static_cast<uint8_t>(sex), out);
}
void PutCaseField(const CaseField&, int64_t instant, std::string* out) {
  PutU64(static_cast<uint64_t>(instant), out);
}
void PutCaseField(const CaseField&, EndReason end, std::string* out) {
  PutU8(static_cast<uint8_t>(end), out);
}

// A version carries the case fields of that version and earlier (CaseField::wire_version).
void PutCase(const CaseInfo& c, uint8_t version, std::string* out) {
  ForEachCaseFieldBinaryOrder(
      [out, version](const CaseField& f, const auto& v) {
        if (f.wire_version <= version) PutCaseField(f, v, out);
      },
      c);
}

// ---------------------------------------------------------------------------------------------
// Decoding.

constexpr std::string_view kCheckResponse = "CHECK response";

// The smallest encodings of list entries (all strings empty), for Reader::Count.
constexpr size_t kMinCheckId = 1;
constexpr size_t kMinCheckAnswer = 2;
constexpr size_t kMinOfficer = 2;
constexpr size_t kMinRoleEntry = 5;
constexpr size_t kMinMeasure = 9;
constexpr size_t kMinBasis = 9;
// A case of `version`: its fixed-width fields and the length prefixes of its texts.
constexpr size_t MinCaseBytes(uint8_t version) {
  size_t n = 0;
  ForEachCaseField(
      [&n, version]<typename M>(const CaseField& f, const M&) {
        if (f.wire_version > version) return;
        if constexpr (kIsCaseText<M>) {
          n += TextPrefix(f);
        } else {
          n += sizeof(M);
        }
      },
      CaseView{});
  return n;
}

std::vector<RoleInfo> ReadRoleEntries(Reader& r, std::string_view field) {
  std::vector<RoleInfo> entries(r.Count(field, 2, 0xFFFF, kMinRoleEntry));
  for (RoleInfo& e : entries) {
    e.role = r.ReadRole("role_entry.role");
    e.id = r.Str8("role_entry.id");
    e.name = r.Str16("role_entry.name");
    e.listed = r.Bool("role_entry.listed");
  }
  return entries;
}

// Reads what PutStretch wrote.
void ReadStretch(Reader& r, std::string_view scope, int64_t* since, int64_t* until) {
  r.set_scope(scope);
  *since = r.I64("since");
  const int64_t until_on_wire = r.I64("until");
  // kForever is sent as 0; its own bytes would not encode back to themselves.
  if (until_on_wire == kForever) r.Fail("until", "no end is 0, not the largest i64", 8);
  *until = UntilFromWire(until_on_wire);
  r.set_scope("");
}

SubjectHead ReadSubjectHead(Reader& r, uint8_t version) {
  SubjectHead h;
  h.id = r.Str8("subject.id");
  h.kind = static_cast<SubjectKind>(r.Enum("subject.kind", 1));
  uint8_t flags = r.Enum("subject.flags", kSubjectListed | kSubjectRelated);
  h.listed = (flags & kSubjectListed) != 0;
  h.related = (flags & kSubjectRelated) != 0;
  if (version >= 2) ReadStretch(r, "subject.", &h.since, &h.until);
  return h;
}

CheckResult ReadSubject(Reader& r, uint8_t version) {
  const SubjectHead head = ReadSubjectHead(r, version);
  CheckResult s;
  s.id = head.id;
  s.kind = head.kind;
  s.listed = head.listed;
  s.related = head.related;
  s.since = head.since;
  s.until = head.until;
  s.name = r.Str16("subject.name");
  s.roles = ReadRoleEntries(r, "subject.n_roles");
  s.officers = ReadRoleEntries(r, "subject.n_officers");
  return s;
}

Basis ReadBasis(Reader& r) {
  Basis b;
  b.type = static_cast<BasisType>(r.Enum("basis.type", 2));
  b.role = r.OptionalRole("basis.role");
  b.via = r.Str8("basis.via");
  b.via_name = r.Str16("basis.via_name");
  b.via_role = r.OptionalRole("basis.via_role");
  b.officer = r.Str8("basis.officer");
  b.officer_name = r.Str16("basis.officer_name");
  return b;
}

MeasureInfo ReadMeasure(Reader& r) {
  MeasureInfo m;
  m.no = r.U16("measure.no");
  m.effect = static_cast<Effect>(r.Enum("measure.effect", kEffectCount - 1));
  m.agency = r.Str8("measure.agency");
  m.agency_name = r.Str16("measure.agency_name");
  m.title = r.Str16("measure.title");
  m.basis.resize(r.Count("measure.n_basis", 1, 0xFF, kMinBasis));
  for (Basis& b : m.basis) b = ReadBasis(r);
  return m;
}

// Reads what PutCaseField wrote.
void ReadCaseField(Reader& r, const CaseField& f, std::string& text) {
  text = r.Str(f.name, TextPrefix(f));
}
void ReadCaseField(Reader& r, const CaseField& f, uint32_t& date) { date = r.U32(f.name); }
void ReadCaseField(Reader& r, const CaseField& f, uint8_t& n) { n = r.U8(f.name); }
void ReadCaseField(Reader& r, const CaseField& f, Sex& sex) {
  sex = static_cast<Sex>(r.Enum(f.name, kSexCount - 1));
}
void ReadCaseField(Reader& r, const CaseField& f, int64_t& instant) {
  instant = static_cast<int64_t>(r.U64(f.name));
}
void ReadCaseField(Reader& r, const CaseField& f, EndReason& end) {
  end = static_cast<EndReason>(r.Enum(f.name, kEndReasonCount - 1));
}

CaseInfo ReadCase(Reader& r, uint8_t version) {
  CaseInfo c;
  r.set_scope("case.");
  ForEachCaseFieldBinaryOrder(
      [&r, version](const CaseField& f, auto& v) {
        if (f.wire_version <= version) ReadCaseField(r, f, v);
      },
      c);
  r.set_scope("");
  return c;
}

}  // namespace

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  // Step back over at most 3 continuation bytes (10xxxxxx) to the start of a character; more
  // than 3 means the text is not UTF-8, and it is cut where it is.
  size_t cut = max_bytes;
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; ++i) {
    --cut;
  }
  if ((static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) cut = max_bytes;
  return s.substr(0, cut);
}

std::string_view SecurityModeName(SecurityMode mode) {
  static constexpr std::string_view kNames[] = {"open", "callers"};
  return EnumName(mode, kNames, "unknown");
}

std::string_view CheckStatusName(CheckStatus status) {
  static constexpr std::string_view kNames[] = {"invalid", "unlisted", "listed", "related"};
  return EnumName(status, kNames, "unknown");
}

void AppendCheckAnswer(const CheckAnswer& a, std::string* out, uint8_t version) {
  if (a.status == CheckStatus::kInvalid) {
    PutU8(static_cast<uint8_t>(a.status), out);
    PutStr8(a.error, out);
    return;
  }
  // Every ID of every CHECK passes here: sized first, then written without a capacity check
  // per field (those were a tenth of a batch's CPU).
  const std::string_view id = codec::Fit8(a.id);
  const bool unlisted = a.status == CheckStatus::kUnlisted;
  const std::string_view name = unlisted ? std::string_view() : codec::Fit8(a.name);
  const bool stretch = !unlisted && version >= 2 && a.status == CheckStatus::kListed;
  const bool receipt = !unlisted && version >= 4;
  const std::string_view receipt_text = receipt ? codec::Fit8(a.receipt) : std::string_view();
  const size_t size =
      2 + id.size() +
      (unlisted ? 0
                : 6 + name.size() + (stretch ? 16 : 0) + (receipt ? 1 + receipt_text.size() : 0));
  const size_t at = out->size();
  out->resize(at + size);
  codec::RawWriter w(out->data() + at);
  w.U8(static_cast<uint8_t>(a.status));
  w.Str8(id);
  if (!unlisted) {
    w.U8(static_cast<uint8_t>(a.kind));
    w.U16(a.cases);
    w.U16(a.roles);
    w.Str8(name);
    if (stretch) {
      w.I64(a.since);
      w.I64(WireUntil(a.until));
    }
    if (receipt) w.Str8(receipt_text);
  }
  assert(w.end() == out->data() + out->size());
}

void AppendCheckCount(uint16_t count, std::string* out) { PutU16(count, out); }

uint16_t PeekCheckCount(std::string_view payload) {
  return payload.size() >= 2 ? DecodeBigEndian16(payload.data()) : 0;
}

void AppendCheckRequest(size_t n, absl::FunctionRef<std::string_view(size_t)> id_at,
                        std::string* out, uint8_t version, int64_t as_of,
                        const RequestContext* context) {
  n = Count16(n);
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutStr8(id_at(i), out);
  if (version >= 2) PutI64(as_of, out);
  if (version >= 4) codec::PutContext(context != nullptr ? *context : RequestContext(), out);
}

void AppendCheckRequest(std::string_view id, std::string* out) {
  AppendCheckRequest(
      1, [id](size_t) { return id; }, out);
}

CheckResponseReader::CheckResponseReader(std::string_view payload, uint8_t version)
    : payload_(payload), version_(version) {
  Reader r(payload_, kCheckResponse);
  count_ = r.Count("count", 2, 0xFFFF, kMinCheckAnswer);
  pos_ = r.pos();
  status_ = r.ok() ? absl::OkStatus() : r.Finish();
  done_ = !r.ok();
}

bool CheckResponseReader::Next(CheckAnswer* a) {
  if (done_) return false;
  Reader r(payload_, kCheckResponse, pos_);
  if (read_ == count_) {
    done_ = true;
    status_ = r.Finish();
    return false;
  }
  *a = CheckAnswer();
  a->status = static_cast<CheckStatus>(r.Enum("answer.status", 3));
  if (a->status == CheckStatus::kInvalid) {
    a->error = r.Str8("answer.error");
  } else {
    a->id = r.Str8("answer.id");
    if (a->status != CheckStatus::kUnlisted) {
      a->kind = static_cast<SubjectKind>(r.Enum("answer.kind", 1));
      a->cases = r.U16("answer.cases");
      a->roles = r.U16("answer.roles");
      a->name = r.Str8("answer.name");
      if (version_ >= 2 && a->status == CheckStatus::kListed) {
        ReadStretch(r, "answer.", &a->since, &a->until);
      }
      if (version_ >= 4) a->receipt = r.Str8("answer.receipt");
    }
  }
  if (!r.ok()) {
    done_ = true;
    status_ = r.Finish();
    return false;
  }
  pos_ = r.pos();
  ++read_;
  return true;
}

void Encode(const HelloRequest& m, std::string* out) {
  PutU8(m.max_version, out);
  PutU32(m.capabilities, out);
  PutStr8(m.client_name, out);
  if (m.max_version < 3) return;
  PutStr8(TruncateUtf8(m.caller_id, kMaxCallerIdBytes), out);
  PutStr8(m.token, out);
}

void Encode(const HelloResponse& m, std::string* out) {
  PutU8(m.version, out);
  PutU32(m.capabilities, out);
  PutU32(m.max_payload, out);
  PutU16(m.max_batch, out);
  PutU16(m.max_in_flight, out);
  PutStr8(m.server_name, out);
  PutStr8(m.catalog_id, out);
  if (m.version < 3) return;
  PutU8(static_cast<uint8_t>(m.mode), out);
  PutStr8(m.caller_id, out);
  PutStr8(m.caller_name, out);
  PutU32(m.scopes, out);
  PutU8(m.view, out);
  PutU32(m.rate, out);
  PutU32(m.burst, out);
}

void Encode(const CheckRequest& m, std::string* out, uint8_t version) {
  AppendCheckRequest(
      m.ids.size(), [&m](size_t i) -> std::string_view { return m.ids[i]; }, out, version, m.as_of,
      &m.context);
}

void Encode(const MeasuresRequest& m, std::string* out, uint8_t version) {
  PutStr8(m.id, out);
  PutStr8(m.agency, out);
  PutStr8(m.scenario, out);
  size_t n = Count8(m.officers.size());
  PutU8(static_cast<uint8_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    PutU8(static_cast<uint8_t>(m.officers[i].first), out);
    PutStr8(m.officers[i].second, out);
  }
  if (version >= 2) PutI64(m.as_of, out);
  if (version >= 4) codec::PutContext(m.context, out);
}

void Encode(const DetailRequest& m, std::string* out, uint8_t version) {
  PutStr8(m.id, out);
  if (version >= 2) PutI64(m.as_of, out);
}

namespace {

// A MEASURES answer of `subject` and `count` measures, put_measure(i) appending the i-th.
template <typename PutMeasureAt>
void EncodeMeasures(const CheckResult& subject, size_t count, PutMeasureAt put_measure,
                    uint8_t version, std::string_view receipt, std::string* out) {
  PutSubject(subject, version, out);
  const size_t n = Count16(count);
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) put_measure(i);
  if (version >= 4) PutStr8(receipt, out);
}

}  // namespace

void Encode(const MeasuresResult& m, std::string* out, uint8_t version, std::string_view receipt) {
  EncodeMeasures(
      m.subject, m.measures.size(),
      [&](size_t i) {
        const MeasureInfo& info = m.measures[i];
        PutMeasureHead(info.no, info.effect, info.agency, info.agency_name, info.title, out);
        PutBases(info.basis, out);
      },
      version, receipt, out);
}

MeasureHeads::MeasureHeads(const Catalog& catalog) : fingerprint_(catalog.fingerprint()) {
  for (const Measure& m : catalog.measures()) {
    const Agency& agency = catalog.agencies()[m.agency];
    PutMeasureHead(m.no, m.effect, agency.id, agency.name, m.title, &bytes_);
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
}

void Encode(const MeasureMatches& m, const MeasureHeads& heads, std::string* out, uint8_t version,
            std::string_view receipt) {
  EncodeMeasures(
      m.subject, m.measures.size(),
      [&](size_t i) {
        const MeasureMatch& match = m.measures[i];
        out->append(heads.Of(match.measure_index));
        PutBases(m.BasesOf(match), out);
      },
      version, receipt, out);
}

void Encode(const CheckResult& m, std::string* out, uint8_t version) {
  PutSubject(m, version, out);
  size_t n = Count16(m.cases.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutCase(m.cases[i], version, out);
}

void EncodeError(std::string_view message, std::string* out) { PutStr16(message, out); }

void EncodeError(const ErrorResponse& m, Status status, uint8_t version, std::string* out) {
  PutStr16(m.message, out);
  if (HasRetryAfter(status, version)) PutU32(m.retry_after_ms, out);
}

absl::Status DecodeEmpty(std::string_view payload) {
  Reader r(payload, "payload");
  return r.Finish();
}

absl::StatusOr<HelloRequest> DecodeHelloRequest(std::string_view payload) {
  Reader r(payload, "HELLO request");
  HelloRequest m;
  m.max_version = r.U8("max_version");
  if (r.ok() && m.max_version == 0) {
    r.Fail("max_version", "0 is not a version (versions start at 1)", 1);
  }
  m.capabilities = r.U32("capabilities");
  m.client_name = r.Str8("client_name");
  if (m.max_version >= 3) {
    m.caller_id = r.Str8("caller_id");
    if (r.ok() && m.caller_id.size() > kMaxCallerIdBytes) {
      r.Fail(
          "caller_id",
          absl::StrFormat("%d bytes exceed the limit of %d", m.caller_id.size(), kMaxCallerIdBytes),
          m.caller_id.size() + 1);
    }
    m.token = r.Str8("token");
  }
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<HelloResponse> DecodeHelloResponse(std::string_view payload) {
  Reader r(payload, "HELLO response");
  HelloResponse m;
  m.version = r.U8("version");
  if (r.ok() && m.version == 0) r.Fail("version", "0 is not a version", 1);
  m.capabilities = r.U32("capabilities");
  m.max_payload = r.U32("max_payload");
  m.max_batch = r.U16("max_batch");
  m.max_in_flight = r.U16("max_in_flight");
  m.server_name = r.Str8("server_name");
  m.catalog_id = r.Str8("catalog_id");
  if (m.version >= 3) {
    m.mode = static_cast<SecurityMode>(r.Enum("mode", 1));
    m.caller_id = r.Str8("caller_id");
    m.caller_name = r.Str8("caller_name");
    m.scopes = r.U32("scopes");
    m.view = r.Enum("view", 1);
    m.rate = r.U32("rate");
    m.burst = r.U32("burst");
  }
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::Status DecodeCheckRequest(std::string_view payload, uint8_t version, CheckRequestView* m) {
  Reader r(payload, "CHECK request");
  m->ids.resize(r.Count("count", 2, 0xFFFF, kMinCheckId));
  for (std::string_view& id : m->ids) id = r.Str8("id");
  m->as_of = version >= 2 ? r.I64("as_of") : kAsOfNow;
  if (version >= 4) {
    codec::ReadContext(r, &m->context);
  } else {  // clear() keeps the storage for the next request
    m->context.matter.clear();
    m->context.operator_id.clear();
    m->context.purpose.clear();
  }
  return r.Finish();
}

absl::StatusOr<CheckRequest> DecodeCheckRequest(std::string_view payload, uint8_t version) {
  CheckRequestView view;
  SHIXIN_RETURN_IF_ERROR(DecodeCheckRequest(payload, version, &view));
  CheckRequest m;
  m.ids.assign(view.ids.begin(), view.ids.end());
  m.as_of = view.as_of;
  m.context = std::move(view.context);
  return m;
}

absl::StatusOr<std::vector<CheckAnswer>> DecodeCheckResponse(std::string_view payload,
                                                             uint8_t version) {
  CheckResponseReader reader(payload, version);
  std::vector<CheckAnswer> answers;
  answers.reserve(reader.count());
  CheckAnswer a;
  while (reader.Next(&a)) answers.push_back(a);
  if (!reader.status().ok()) return reader.status();
  return answers;
}

uint8_t PeekMeasuresOfficerCount(std::string_view payload) {
  Reader r(payload, "MEASURES request");
  r.Str8("id");  // the fields before the count, as DecodeMeasuresRequest() reads them
  r.Str8("agency");
  r.Str8("scenario");
  const uint8_t count = r.U8("officer_count");
  return r.ok() ? count : 0;
}

std::optional<std::string_view> PeekMeasuresId(std::string_view payload) {
  Reader r(payload, "MEASURES request");
  const std::string_view id = r.Str8("id");  // the first field, as DecodeMeasuresRequest() reads
  if (!r.ok()) return std::nullopt;
  return id;
}

absl::StatusOr<MeasuresRequest> DecodeMeasuresRequest(std::string_view payload, uint8_t version) {
  Reader r(payload, "MEASURES request");
  MeasuresRequest m;
  m.id = r.Str8("id");
  m.agency = r.Str8("agency");
  m.scenario = r.Str8("scenario");
  m.officers.resize(r.Count("officer_count", 1, kMaxOfficers, kMinOfficer));
  for (auto& [role, id] : m.officers) {
    role = r.ReadRole("officer.role");
    id = r.Str8("officer.id");
  }
  if (version >= 2) m.as_of = r.I64("as_of");
  if (version >= 4) codec::ReadContext(r, &m.context);
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<DetailRequest> DecodeDetailRequest(std::string_view payload, uint8_t version) {
  Reader r(payload, "DETAIL request");
  DetailRequest m;
  m.id = r.Str8("id");
  if (version >= 2) m.as_of = r.I64("as_of");
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<MeasuresResult> DecodeMeasuresResponse(std::string_view payload, uint8_t version) {
  return DecodeMeasuresResponseAndReceipt(payload, version, nullptr);
}

absl::StatusOr<MeasuresResult> DecodeMeasuresResponseAndReceipt(std::string_view payload,
                                                                uint8_t version,
                                                                std::string* receipt) {
  Reader r(payload, "MEASURES response");
  MeasuresResult m;
  m.subject = ReadSubject(r, version);
  m.measures.resize(r.Count("n_measures", 2, 0xFFFF, kMinMeasure));
  for (MeasureInfo& measure : m.measures) measure = ReadMeasure(r);
  if (version >= 4) {
    const std::string_view text = r.Str8("receipt");
    if (receipt != nullptr) receipt->assign(text);
  } else if (receipt != nullptr) {
    receipt->clear();
  }
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<SubjectHead> DecodeSubjectHead(std::string_view payload, uint8_t version) {
  Reader r(payload, "subject block");
  const SubjectHead head = ReadSubjectHead(r, version);
  if (!r.ok()) return r.Finish();
  return head;
}

absl::StatusOr<CheckResult> DecodeDetailResponse(std::string_view payload, uint8_t version) {
  Reader r(payload, "DETAIL response");
  CheckResult m = ReadSubject(r, version);
  m.cases.resize(r.Count("n_cases", 2, 0xFFFF, MinCaseBytes(version)));
  for (CaseInfo& c : m.cases) c = ReadCase(r, version);
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<ErrorResponse> DecodeError(std::string_view payload, Status status,
                                          uint8_t version) {
  Reader r(payload, "error response");
  ErrorResponse m;
  m.message = r.Str16("message");
  if (HasRetryAfter(status, version)) m.retry_after_ms = r.U32("retry_after_ms");
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<std::string> DecodeError(std::string_view payload) {
  Reader r(payload, "error response");
  std::string message(r.Str16("message"));
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return message;
}

}  // namespace shixin::wire
