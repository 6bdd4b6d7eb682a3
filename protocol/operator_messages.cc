#include "protocol/operator_messages.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "base/enum_names.h"
#include "base/status_macros.h"
#include "protocol/codec.h"

namespace shixin::wire {
namespace {

using codec::Count16;
using codec::Count8;
using codec::PutI64;
using codec::PutStr16;
using codec::PutStr8;
using codec::PutU16;
using codec::PutU32;
using codec::PutU64;
using codec::PutU8;
using codec::Reader;

// The smallest encodings of list entries (all strings empty), for Reader::Count.
constexpr size_t kMinAgency = 5;
constexpr size_t kMinScenario = 3;
constexpr size_t kMinCatalogMeasure = 7;
constexpr size_t kMinScenarioRef = 1;
constexpr size_t kMinCallerCounters = 1 + 4 * 8;

void PutCatalogMeasure(const CatalogMeasure& m, std::string* out) {
  PutU16(m.no, out);
  PutU8(static_cast<uint8_t>(m.effect), out);
  PutStr8(m.agency, out);
  PutStr16(m.title, out);
  const size_t n = Count8(m.scenarios.size());
  PutU8(static_cast<uint8_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutStr8(m.scenarios[i], out);
}

CatalogMeasure ReadCatalogMeasure(Reader& r) {
  CatalogMeasure m;
  m.no = r.U16("measure.no");
  m.effect = static_cast<Effect>(r.Enum("measure.effect", kEffectCount - 1));
  m.agency = r.Str8("measure.agency");
  m.title = r.Str16("measure.title");
  m.scenarios.resize(r.Count("measure.n_scenarios", 1, 0xFF, kMinScenarioRef));
  for (std::string& id : m.scenarios) id = r.Str8("measure.scenario");
  return m;
}

// INFO's security block (version 3).
void ReadSecurity(Reader& r, SecurityInfo* sec) {
  sec->mode = static_cast<SecurityMode>(r.Enum("mode", 1));
  sec->caller_id = r.Str8("caller_id");
  sec->callers.resize(r.Count("n_callers", 2, 0xFFFF, kMinCallerCounters));
  r.set_scope("caller.");
  for (CallerCounters& c : sec->callers) {
    c.id = r.Str8("id");
    c.requests = r.U64("requests");
    c.rate_limited = r.U64("rate_limited");
    c.denied = r.U64("denied");
    c.auth_failures = r.U64("auth_failures");
  }
  r.set_scope("");
}

}  // namespace

std::string_view ReloadStateName(ReloadState state) {
  static constexpr std::string_view kNames[] = {"none", "ok", "failed", "running"};
  return EnumName(state, kNames, "unknown");
}

void Encode(const InfoResponse& m, std::string* out, uint8_t version) {
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
  if (version < 2) return;
  const DeltaInfo& d = m.deltas;
  PutU64(d.base_sequence, out);
  PutU64(d.sequence, out);
  PutI64(d.last_delta_time, out);
  PutI64(d.lag_seconds, out);
  for (uint64_t count : {d.pending, d.applied_files, d.applied_changes, d.notes, d.refusals}) {
    PutU64(count, out);
  }
  PutU8(d.gap ? 1 : 0, out);
  PutU64(d.gap_after, out);
  PutU64(d.overlay_subjects, out);
  PutU64(d.overlay_bytes, out);
  PutStr16(d.refused, out);
  PutStr16(d.delta_error, out);
  if (version < 3) return;
  const SecurityInfo& sec = m.security;
  PutU8(static_cast<uint8_t>(sec.mode), out);
  PutStr8(sec.caller_id, out);
  const size_t n = Count16(sec.callers.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    const CallerCounters& c = sec.callers[i];
    PutStr8(c.id, out);
    for (uint64_t count : {c.requests, c.rate_limited, c.denied, c.auth_failures}) {
      PutU64(count, out);
    }
  }
  if (version >= 4) codec::PutAudit(m.audit, out);
}

void Encode(const ReloadRequest& m, std::string* out) {
  if (m.allow_shrink) PutU8(kReloadAllowShrink, out);
}

void Encode(const ReloadResponse& m, std::string* out) {
  PutU32(m.generation, out);
  PutStr16(m.message, out);
}

CatalogResponse DescribeCatalog(const Catalog& catalog) {
  CatalogResponse m;
  m.id = catalog.id();
  m.title = catalog.title();
  m.fingerprint = catalog.fingerprint();
  for (const Agency& a : catalog.agencies()) m.agencies.push_back({a.id, a.section, a.name});
  for (const Scenario& s : catalog.scenarios()) m.scenarios.push_back({s.id, s.description});
  for (const Measure& measure : catalog.measures()) {
    CatalogMeasure c{static_cast<uint16_t>(measure.no),
                     measure.effect,
                     catalog.agencies()[measure.agency].id,
                     measure.title,
                     {}};
    for (size_t i = 0; i < catalog.scenarios().size(); ++i) {
      if ((measure.scenarios >> i & 1) != 0) c.scenarios.push_back(catalog.scenarios()[i].id);
    }
    m.measures.push_back(std::move(c));
  }
  return m;
}

void Encode(const CatalogResponse& m, std::string* out) {
  PutStr8(m.id, out);
  PutStr16(m.title, out);
  PutU64(m.fingerprint, out);
  size_t n = Count16(m.agencies.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    PutStr8(m.agencies[i].id, out);
    PutStr16(m.agencies[i].section, out);
    PutStr16(m.agencies[i].name, out);
  }
  n = Count16(m.scenarios.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) {
    PutStr8(m.scenarios[i].id, out);
    PutStr16(m.scenarios[i].description, out);
  }
  n = Count16(m.measures.size());
  PutU16(static_cast<uint16_t>(n), out);
  for (size_t i = 0; i < n; ++i) PutCatalogMeasure(m.measures[i], out);
}

absl::StatusOr<InfoResponse> DecodeInfoResponse(std::string_view payload, uint8_t version) {
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
  if (version >= 2) {
    DeltaInfo& d = m.deltas;
    d.base_sequence = r.U64("base_sequence");
    d.sequence = r.U64("sequence");
    d.last_delta_time = r.I64("last_delta_time");
    d.lag_seconds = r.I64("lag_seconds");
    const std::pair<uint64_t*, std::string_view> counts[] = {
        {&d.pending, "pending"},
        {&d.applied_files, "applied_files"},
        {&d.applied_changes, "applied_changes"},
        {&d.notes, "notes"},
        {&d.refusals, "refusals"}};
    for (const auto& [count, field] : counts) *count = r.U64(field);
    d.gap = r.Bool("gap");
    d.gap_after = r.U64("gap_after");
    d.overlay_subjects = r.U64("overlay_subjects");
    d.overlay_bytes = r.U64("overlay_bytes");
    d.refused = r.Str16("refused");
    d.delta_error = r.Str16("delta_error");
  }
  if (version >= 3) ReadSecurity(r, &m.security);
  if (version >= 4) codec::ReadAudit(r, &m.audit);
  SHIXIN_RETURN_IF_ERROR(r.Finish());
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
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<ReloadResponse> DecodeReloadResponse(std::string_view payload) {
  Reader r(payload, "RELOAD response");
  ReloadResponse m;
  m.generation = r.U32("generation");
  m.message = r.Str16("message");
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<CatalogResponse> DecodeCatalogResponse(std::string_view payload) {
  Reader r(payload, "CATALOG response");
  CatalogResponse m;
  m.id = r.Str8("catalog_id");
  m.title = r.Str16("title");
  m.fingerprint = r.U64("fingerprint");
  m.agencies.resize(r.Count("n_agencies", 2, 0xFFFF, kMinAgency));
  for (CatalogAgency& a : m.agencies) {
    a.id = r.Str8("agency.id");
    a.section = r.Str16("agency.section");
    a.name = r.Str16("agency.name");
  }
  m.scenarios.resize(r.Count("n_scenarios", 2, 0xFFFF, kMinScenario));
  for (CatalogScenario& s : m.scenarios) {
    s.id = r.Str8("scenario.id");
    s.description = r.Str16("scenario.description");
  }
  m.measures.resize(r.Count("n_measures", 2, 0xFFFF, kMinCatalogMeasure));
  for (CatalogMeasure& measure : m.measures) measure = ReadCatalogMeasure(r);
  SHIXIN_RETURN_IF_ERROR(r.Finish());
  return m;
}

}  // namespace shixin::wire
