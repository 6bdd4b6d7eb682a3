#include "protocol/messages.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_format.h"

namespace shixin::wire {
namespace {

// ---------------------------------------------------------------------------------------------
// Encoding.

void PutU8(uint8_t v, std::string* out) { out->push_back(static_cast<char>(v)); }

void PutU16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutU32(uint32_t v, std::string* out) {
  PutU16(static_cast<uint16_t>(v >> 16), out);
  PutU16(static_cast<uint16_t>(v), out);
}

void PutU64(uint64_t v, std::string* out) {
  PutU32(static_cast<uint32_t>(v >> 32), out);
  PutU32(static_cast<uint32_t>(v), out);
}

void PutI64(int64_t v, std::string* out) { PutU64(static_cast<uint64_t>(v), out); }

// A string with a `prefix`-byte length (1, 2 or 4), cut at a UTF-8 boundary if too long.
void PutStr(int prefix, std::string_view s, std::string* out) {
  size_t max = prefix == 1 ? 0xFF : prefix == 2 ? 0xFFFF : std::numeric_limits<uint32_t>::max();
  s = TruncateUtf8(s, max);
  if (prefix == 1) PutU8(static_cast<uint8_t>(s.size()), out);
  if (prefix == 2) PutU16(static_cast<uint16_t>(s.size()), out);
  if (prefix == 4) PutU32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

void PutStr8(std::string_view s, std::string* out) { PutStr(1, s, out); }
void PutStr16(std::string_view s, std::string* out) { PutStr(2, s, out); }
void PutStr32(std::string_view s, std::string* out) { PutStr(4, s, out); }

// The number of list entries written: lists longer than their count field are cut.
size_t Count16(size_t n) { return std::min<size_t>(n, 0xFFFF); }
size_t Count8(size_t n) { return std::min<size_t>(n, 0xFF); }

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

void PutSubject(const CheckResult& s, std::string* out) {
  PutStr8(s.id, out);
  PutU8(static_cast<uint8_t>(s.kind), out);
  PutU8(static_cast<uint8_t>((s.listed ? kSubjectListed : 0) | (s.related ? kSubjectRelated : 0)),
        out);
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

void PutMeasure(const MeasureInfo& m, std::string* out) {
  PutU16(static_cast<uint16_t>(m.no), out);
  PutU8(static_cast<uint8_t>(m.effect), out);
  PutStr8(m.agency, out);
  PutStr16(m.agency_name, out);
  PutStr16(m.title, out);
  size_t n = Count8(m.basis.size());
  PutU8(static_cast<uint8_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutBasis(m.basis[i], out);
}

void PutCase(const CaseInfo& c, std::string* out) {
  PutU32(c.reg_date, out);
  PutU32(c.publish_date, out);
  PutU8(c.age, out);
  PutU8(c.sex, out);
  PutStr16(c.case_code, out);
  PutStr16(c.court, out);
  PutStr16(c.area, out);
  PutStr16(c.gist_id, out);
  PutStr16(c.gist_unit, out);
  PutStr32(c.duty, out);
  PutStr16(c.performance, out);
  PutStr16(c.performed_part, out);
  PutStr16(c.unperform_part, out);
  PutStr16(c.disrupt_type, out);
  PutStr16(c.business_entity, out);
}

// ---------------------------------------------------------------------------------------------
// Decoding.

// A bounds-checked reader over one payload. The first failure sticks: later reads return
// zeros and empty strings, and Finish() reports the first failure, naming the field.
class Reader {
 public:
  Reader(std::string_view data, std::string_view what) : data_(data), what_(what) {}

  bool ok() const { return error_.empty(); }

  uint8_t U8(const char* field) { return static_cast<uint8_t>(Bytes(field, 1)); }
  uint16_t U16(const char* field) { return static_cast<uint16_t>(Bytes(field, 2)); }
  uint32_t U32(const char* field) { return static_cast<uint32_t>(Bytes(field, 4)); }
  uint64_t U64(const char* field) { return Bytes(field, 8); }
  int64_t I64(const char* field) { return static_cast<int64_t>(Bytes(field, 8)); }

  // Reads a u8 that must be at most `max`.
  uint8_t Enum(const char* field, uint8_t max) {
    uint8_t v = U8(field);
    if (v > max) Fail(field, absl::StrFormat("value %d out of range 0-%d", v, max), 1);
    return ok() ? v : 0;
  }
  Role ReadRole(const char* field) { return static_cast<Role>(Enum(field, kRoleCount - 1)); }
  // A role, or kNoRole (0xFF) for none.
  std::optional<Role> OptionalRole(const char* field) {
    uint8_t v = U8(field);
    if (v == kNoRole || !ok()) return std::nullopt;
    if (v >= kRoleCount) Fail(field, absl::StrFormat("%d is neither a role 0-6 nor 0xFF", v), 1);
    return static_cast<Role>(v);
  }
  bool Bool(const char* field) { return Enum(field, 1) != 0; }

  // Reads a string with a `prefix`-byte length; the view points into the payload.
  std::string_view Str(const char* field, int prefix) {
    uint64_t size = Bytes(field, prefix);
    if (!ok()) return {};
    if (size > data_.size() - pos_) {
      Fail(field, absl::StrFormat("string of %d bytes, %d left", size, data_.size() - pos_), 0);
      return {};
    }
    std::string_view s = data_.substr(pos_, size);
    pos_ += size;
    return s;
  }
  std::string_view Str8(const char* field) { return Str(field, 1); }
  std::string_view Str16(const char* field) { return Str(field, 2); }
  std::string_view Str32(const char* field) { return Str(field, 4); }

  // Reads a list count and checks that the payload can hold that many entries of at least
  // `min_entry` bytes, so that a bogus count fails before anything is allocated for it.
  size_t Count(const char* field, int prefix, size_t max, size_t min_entry) {
    uint64_t n = Bytes(field, prefix);
    if (n > max) Fail(field, absl::StrFormat("%d exceeds the limit of %d", n, max), prefix);
    if (ok() && n * min_entry > data_.size() - pos_) {
      Fail(field,
           absl::StrFormat("%d entries cannot fit in the %d bytes left", n, data_.size() - pos_),
           prefix);
    }
    return ok() ? n : 0;
  }

  void Fail(const char* field, std::string reason, size_t back) {
    if (!ok()) return;
    error_ = absl::StrFormat("%s: %s: %s (at byte %d)", what_, field, reason, pos_ - back);
  }

  // Returns the first failure, or InvalidArgument if bytes are left over.
  absl::Status Finish() {
    if (ok() && pos_ != data_.size()) {
      error_ = absl::StrFormat("%s: %d trailing bytes after the payload (at byte %d)", what_,
                               data_.size() - pos_, pos_);
    }
    return ok() ? absl::OkStatus() : absl::InvalidArgumentError(error_);
  }

 private:
  // Reads an n-byte big-endian unsigned integer.
  uint64_t Bytes(const char* field, int n) {
    if (!ok()) return 0;
    if (data_.size() - pos_ < static_cast<size_t>(n)) {
      Fail(field, absl::StrFormat("truncated: needs %d bytes, %d left", n, data_.size() - pos_), 0);
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(data_[pos_++]);
    return v;
  }

  std::string_view data_;
  std::string_view what_;
  size_t pos_ = 0;
  std::string error_;
};

// The smallest encodings of list entries (all strings empty), for Reader::Count.
constexpr size_t kMinCheckId = 1;
constexpr size_t kMinCheckAnswer = 2;
constexpr size_t kMinOfficer = 2;
constexpr size_t kMinRoleEntry = 5;
constexpr size_t kMinMeasure = 9;
constexpr size_t kMinBasis = 9;
constexpr size_t kMinCase = 34;

std::vector<RoleInfo> ReadRoleEntries(Reader& r, const char* field) {
  std::vector<RoleInfo> entries(r.Count(field, 2, 0xFFFF, kMinRoleEntry));
  for (RoleInfo& e : entries) {
    e.role = r.ReadRole("role_entry.role");
    e.id = r.Str8("role_entry.id");
    e.name = r.Str16("role_entry.name");
    e.listed = r.Bool("role_entry.listed");
  }
  return entries;
}

CheckResult ReadSubject(Reader& r) {
  CheckResult s;
  s.id = r.Str8("subject.id");
  s.kind = static_cast<SubjectKind>(r.Enum("subject.kind", 1));
  uint8_t flags = r.Enum("subject.flags", kSubjectListed | kSubjectRelated);
  s.listed = (flags & kSubjectListed) != 0;
  s.related = (flags & kSubjectRelated) != 0;
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

CaseInfo ReadCase(Reader& r) {
  CaseInfo c;
  c.reg_date = r.U32("case.reg_date");
  c.publish_date = r.U32("case.publish_date");
  c.age = r.U8("case.age");
  c.sex = r.Enum("case.sex", 2);
  c.case_code = r.Str16("case.case_code");
  c.court = r.Str16("case.court");
  c.area = r.Str16("case.area");
  c.gist_id = r.Str16("case.gist_id");
  c.gist_unit = r.Str16("case.gist_unit");
  c.duty = r.Str32("case.duty");
  c.performance = r.Str16("case.performance");
  c.performed_part = r.Str16("case.performed_part");
  c.unperform_part = r.Str16("case.unperform_part");
  c.disrupt_type = r.Str16("case.disrupt_type");
  c.business_entity = r.Str16("case.business_entity");
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

std::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kInvalid:
      return "invalid";
    case CheckStatus::kUnlisted:
      return "unlisted";
    case CheckStatus::kListed:
      return "listed";
    case CheckStatus::kRelated:
      return "related";
  }
  return "unknown";
}

std::string_view ReloadStateName(ReloadState state) {
  switch (state) {
    case ReloadState::kNone:
      return "none";
    case ReloadState::kOk:
      return "ok";
    case ReloadState::kFailed:
      return "failed";
    case ReloadState::kRunning:
      return "running";
  }
  return "unknown";
}

void AppendCheckAnswer(const CheckAnswer& a, std::string* out) {
  PutU8(static_cast<uint8_t>(a.status), out);
  if (a.status == CheckStatus::kInvalid) {
    PutStr8(a.error, out);
    return;
  }
  PutStr8(a.id, out);
  if (a.status == CheckStatus::kUnlisted) return;
  PutU8(static_cast<uint8_t>(a.kind), out);
  PutU16(a.cases, out);
  PutU16(a.roles, out);
  PutStr8(a.name, out);
}

void AppendCheckCount(uint16_t count, std::string* out) { PutU16(count, out); }

void Encode(const HelloRequest& m, std::string* out) {
  PutU8(m.max_version, out);
  PutU32(m.capabilities, out);
  PutStr8(m.client_name, out);
}

void Encode(const HelloResponse& m, std::string* out) {
  PutU8(m.version, out);
  PutU32(m.capabilities, out);
  PutU32(m.max_payload, out);
  PutU16(m.max_batch, out);
  PutU16(m.max_in_flight, out);
  PutStr8(m.server_name, out);
  PutStr8(m.catalog_id, out);
}

void Encode(const CheckRequest& m, std::string* out) {
  size_t n = Count16(m.ids.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutStr8(m.ids[i], out);
}

void Encode(const MeasuresRequest& m, std::string* out) {
  PutStr8(m.id, out);
  PutStr8(m.agency, out);
  PutStr8(m.scenario, out);
  size_t n = Count8(m.officers.size());
  PutU8(static_cast<uint8_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    PutU8(static_cast<uint8_t>(m.officers[i].first), out);
    PutStr8(m.officers[i].second, out);
  }
}

void Encode(const DetailRequest& m, std::string* out) { PutStr8(m.id, out); }

void Encode(const MeasuresResult& m, std::string* out) {
  PutSubject(m.subject, out);
  size_t n = Count16(m.measures.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutMeasure(m.measures[i], out);
}

void Encode(const CheckResult& m, std::string* out) {
  PutSubject(m, out);
  size_t n = Count16(m.cases.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutCase(m.cases[i], out);
}

void Encode(const InfoResponse& m, std::string* out) {
  const SnapshotInfo& s = m.snapshot;
  PutU64(s.version, out);
  PutI64(s.build_time, out);
  PutI64(s.source_time, out);
  for (uint64_t count : {s.subjects, s.persons, s.organizations, s.cases, s.relations,
                         s.related_persons, s.entities}) {
    PutU64(count, out);
  }
  PutU32(m.generation, out);
  PutU64(m.uptime_seconds, out);
  PutU32(m.max_age_seconds, out);
  PutU8(m.stale ? 1 : 0, out);
  PutU8(static_cast<uint8_t>(m.reload_state), out);
  PutI64(m.last_reload_time, out);
  PutStr16(m.last_reload_message, out);
  PutStr8(m.catalog_id, out);
  PutU64(m.catalog_fingerprint, out);
  PutStr16(m.data_source, out);
}

void Encode(const ReloadRequest& m, std::string* out) {
  if (m.allow_shrink) PutU8(kReloadAllowShrink, out);
}

void Encode(const ReloadResponse& m, std::string* out) {
  PutU32(m.generation, out);
  PutStr16(m.message, out);
}

void EncodeError(std::string_view message, std::string* out) { PutStr16(message, out); }

absl::Status DecodeEmpty(std::string_view payload) {
  Reader r(payload, "payload");
  return r.Finish();
}

absl::StatusOr<HelloRequest> DecodeHelloRequest(std::string_view payload) {
  Reader r(payload, "HELLO request");
  HelloRequest m;
  m.max_version = r.U8("max_version");
  if (r.ok() && m.max_version == 0) r.Fail("max_version", "0 is not a version", 1);
  m.capabilities = r.U32("capabilities");
  m.client_name = r.Str8("client_name");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
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
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<CheckRequest> DecodeCheckRequest(std::string_view payload) {
  Reader r(payload, "CHECK request");
  CheckRequest m;
  m.ids.resize(r.Count("count", 2, 0xFFFF, kMinCheckId));
  for (std::string& id : m.ids) id = r.Str8("id");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<std::vector<CheckAnswer>> DecodeCheckResponse(std::string_view payload) {
  Reader r(payload, "CHECK response");
  std::vector<CheckAnswer> answers(r.Count("count", 2, 0xFFFF, kMinCheckAnswer));
  for (CheckAnswer& a : answers) {
    a.status = static_cast<CheckStatus>(r.Enum("answer.status", 3));
    if (a.status == CheckStatus::kInvalid) {
      a.error = r.Str8("answer.error");
      continue;
    }
    a.id = r.Str8("answer.id");
    if (a.status == CheckStatus::kUnlisted) continue;
    a.kind = static_cast<SubjectKind>(r.Enum("answer.kind", 1));
    a.cases = r.U16("answer.cases");
    a.roles = r.U16("answer.roles");
    a.name = r.Str8("answer.name");
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return answers;
}

absl::StatusOr<MeasuresRequest> DecodeMeasuresRequest(std::string_view payload) {
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
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<DetailRequest> DecodeDetailRequest(std::string_view payload) {
  Reader r(payload, "DETAIL request");
  DetailRequest m;
  m.id = r.Str8("id");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<MeasuresResult> DecodeMeasuresResponse(std::string_view payload) {
  Reader r(payload, "MEASURES response");
  MeasuresResult m;
  m.subject = ReadSubject(r);
  m.measures.resize(r.Count("n_measures", 2, 0xFFFF, kMinMeasure));
  for (MeasureInfo& measure : m.measures) measure = ReadMeasure(r);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<CheckResult> DecodeDetailResponse(std::string_view payload) {
  Reader r(payload, "DETAIL response");
  CheckResult m = ReadSubject(r);
  m.cases.resize(r.Count("n_cases", 2, 0xFFFF, kMinCase));
  for (CaseInfo& c : m.cases) c = ReadCase(r);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<InfoResponse> DecodeInfoResponse(std::string_view payload) {
  Reader r(payload, "INFO response");
  InfoResponse m;
  SnapshotInfo& s = m.snapshot;
  s.version = r.U64("version");
  s.build_time = r.I64("build_time");
  s.source_time = r.I64("source_time");
  s.subjects = r.U64("subjects");
  s.persons = r.U64("persons");
  s.organizations = r.U64("organizations");
  s.cases = r.U64("cases");
  s.relations = r.U64("relations");
  s.related_persons = r.U64("related_persons");
  s.entities = r.U64("entities");
  m.generation = r.U32("generation");
  m.uptime_seconds = r.U64("uptime_seconds");
  m.max_age_seconds = r.U32("max_age_seconds");
  m.stale = r.Bool("stale");
  m.reload_state = static_cast<ReloadState>(r.Enum("reload_state", 3));
  m.last_reload_time = r.I64("last_reload_time");
  m.last_reload_message = r.Str16("last_reload_message");
  m.catalog_id = r.Str8("catalog_id");
  m.catalog_fingerprint = r.U64("catalog_fingerprint");
  m.data_source = r.Str16("data_source");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<ReloadRequest> DecodeReloadRequest(std::string_view payload) {
  Reader r(payload, "RELOAD request");
  ReloadRequest m;
  if (!payload.empty()) {
    const uint8_t flags = r.U8("flags");
    if (flags == 0) r.Fail("flags", "0: send an empty payload for no flags", 1);
    if ((flags & ~kReloadAllowShrink) != 0) {
      r.Fail("flags", absl::StrFormat("reserved bits set in 0x%02x", flags), 1);
    }
    m.allow_shrink = (flags & kReloadAllowShrink) != 0;
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<ReloadResponse> DecodeReloadResponse(std::string_view payload) {
  Reader r(payload, "RELOAD response");
  ReloadResponse m;
  m.generation = r.U32("generation");
  m.message = r.Str16("message");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return m;
}

absl::StatusOr<std::string> DecodeError(std::string_view payload) {
  Reader r(payload, "error response");
  std::string message(r.Str16("message"));
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return message;
}

}  // namespace shixin::wire
