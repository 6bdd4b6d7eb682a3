// The payloads of the operator's operations (protocol/FORMAT.md, sections 8.5-8.7): INFO (the
// snapshot, the daemon, and by version the delta state, the security block and the audit block),
// RELOAD and CATALOG, with encoders and decoders. messages.h holds the rest (HELLO, CHECK,
// MEASURES, DETAIL, errors) and its rules hold here: encoders never fail and cut over-long
// strings and lists; decoders are strict and name the field and the byte offset.
//
// Thread safety: pure functions.
#ifndef SHIXIN_PROTOCOL_OPERATOR_MESSAGES_H_
#define SHIXIN_PROTOCOL_OPERATOR_MESSAGES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/catalog.h"
#include "core/snapshot.h"
#include "protocol/feedback_messages.h"
#include "protocol/messages.h"

namespace shixin::wire {

// INFO: the snapshot and the daemon.
enum class ReloadState : uint8_t { kNone = 0, kOk = 1, kFailed = 2, kRunning = 3 };
std::string_view ReloadStateName(ReloadState state);

// INFO's delta state (version 2, FORMAT.md 13): where the answering generation stands in the
// feed of delta files (docs/feed.md).
struct DeltaInfo {
  uint64_t base_sequence = 0;     // the last delta folded into the base snapshot (0: none)
  uint64_t sequence = 0;          // the last delta applied (of the answering generation)
  int64_t last_delta_time = 0;    // Unix seconds: when the last file was applied, or 0
  int64_t lag_seconds = 0;        // of that file: application time minus its newest change's at
  uint64_t pending = 0;           // delta files after `sequence` not applied yet
  uint64_t applied_files = 0;     // since the daemon started
  uint64_t applied_changes = 0;   // lines of those files
  uint64_t notes = 0;             // lines that changed nothing
  uint64_t refusals = 0;          // files refused since the daemon started
  bool gap = false;               // the file after `gap_after` is missing, a later one is there
  uint64_t gap_after = 0;         // if gap: the last file applied before the missing one
  uint64_t overlay_subjects = 0;  // subjects with a state in the overlay
  uint64_t overlay_bytes = 0;     // memory the overlay holds
  std::string refused;            // admin only: the refused file, line and reason; else ""
  std::string delta_error;        // admin only: why the delta directory was unreadable; else ""
};

// INFO's security block (version 3, FORMAT.md 14): the counters of one caller.
struct CallerCounters {
  std::string id;
  uint64_t requests = 0;       // answered since the daemon started
  uint64_t rate_limited = 0;   // refused with RATE_LIMITED
  uint64_t denied = 0;         // refused with PERMISSION_DENIED
  uint64_t auth_failures = 0;  // HELLOs naming this caller with refused credentials
};
struct SecurityInfo {
  SecurityMode mode = SecurityMode::kOpen;
  std::string caller_id;                // the asking caller, "" if none
  std::vector<CallerCounters> callers;  // an admin: every caller; others: its own
};

struct InfoResponse {
  SnapshotInfo snapshot;  // sent whole, source_time included (delta_sequence: in `deltas`)
  uint32_t generation = 0;
  uint64_t uptime_seconds = 0;
  uint32_t max_age_seconds = 0;  // 0: no staleness limit
  bool stale = false;
  ReloadState reload_state = ReloadState::kNone;
  int64_t last_reload_time = 0;
  std::string last_reload_message;
  std::string catalog_id;
  uint64_t catalog_fingerprint = 0;
  std::string data_source;
  DeltaInfo deltas;       // version 2 only
  SecurityInfo security;  // version 3 only
  AuditInfo audit;        // version 4 only
};

// RELOAD request: empty, or one flags byte (FORMAT.md 8.6). The flags byte is sent only when
// a flag is set, so that an encoded request is canonical; the decoder rejects a zero byte and
// reserved bits.
inline constexpr uint8_t kReloadAllowShrink = 0x01;  // accept a list that shrinks a lot
struct ReloadRequest {
  bool allow_shrink = false;  // accept a list that removes more than the server's max_shrink
                              // of the subjects or relations
};

// RELOAD's successful answer.
struct ReloadResponse {
  uint32_t generation = 0;
  std::string message;
};

// CATALOG: the measure catalog the server applies (FORMAT.md 8.7), and so the values MEASURES
// accepts as agency and scenario. Lists are in the catalog's order (measures by number).
struct CatalogAgency {
  std::string id;       // what MEASURES takes as agency, e.g. "housing"
  std::string section;  // e.g. "（十三）", or ""
  std::string name;     // e.g. "鹤岗市住房保障局"
};
struct CatalogScenario {
  std::string id;           // what MEASURES takes as scenario, e.g. "hotel"
  std::string description;  // or ""
};
struct CatalogMeasure {
  uint16_t no = 0;
  Effect effect = Effect::kRestrict;
  std::string agency;  // the implementing agency's id
  std::string title;
  std::vector<std::string> scenarios;  // the ids of the scenarios it governs
};
struct CatalogResponse {
  std::string id;  // e.g. "hegang-2018"
  std::string title;
  uint64_t fingerprint = 0;  // XXH3-64 of the catalog file, as in INFO
  std::vector<CatalogAgency> agencies;
  std::vector<CatalogScenario> scenarios;
  std::vector<CatalogMeasure> measures;
};

// Returns the CATALOG answer that describes `catalog`: the one conversion, shared by the server
// and the offline CLI. REQUIRES: each measure's no is 0-65535.
CatalogResponse DescribeCatalog(const Catalog& catalog);

// Encoders append the payload to `out`.
// INFO response; version 2 appends m.deltas (m.snapshot.delta_sequence is not sent), version 3
// then m.security, version 4 then m.audit.
void Encode(const InfoResponse& m, std::string* out, uint8_t version = 1);
void Encode(const ReloadRequest& m, std::string* out);
void Encode(const ReloadResponse& m, std::string* out);
void Encode(const CatalogResponse& m, std::string* out);

// Decoders: as strict as those of messages.h (InvalidArgument naming the field).
absl::StatusOr<InfoResponse> DecodeInfoResponse(std::string_view payload, uint8_t version = 1);
absl::StatusOr<ReloadRequest> DecodeReloadRequest(std::string_view payload);
absl::StatusOr<ReloadResponse> DecodeReloadResponse(std::string_view payload);
absl::StatusOr<CatalogResponse> DecodeCatalogResponse(std::string_view payload);

}  // namespace shixin::wire

#endif  // SHIXIN_PROTOCOL_OPERATOR_MESSAGES_H_
