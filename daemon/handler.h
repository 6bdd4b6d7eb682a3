// Handler answers requests: given a decoded request frame and the published list, it appends
// the response frame. It does no I/O, so it is driven directly by tests (handler_test.cc);
// Connection feeds it frames from a socket.
//
// Every response carries the request's id, the generation of the dataset that answered (for
// answers that use none, PING, HELLO and errors: the current one; 0 while none is loaded) and,
// when that dataset's source time is older than max_age_seconds, the STALE flag (FORMAT.md 5).
// The one per-connection state, the protocol version (FORMAT.md 4), is the caller's Session:
// a HELLO sent as a connection's first request negotiates it; a later HELLO is answered alike
// but changes nothing. Payloads and response headers follow the session's version. Version 2
// requests may name an instant (as_of): outside the last config.history_days days it is
// answered OUT_OF_RANGE. Protocol errors (a malformed frame, an unknown opcode, a payload
// that does not decode) get a fatal status: the caller writes the response and closes the
// connection. Errors of the request's content (an invalid ID, an unknown agency) are answered
// and the connection goes on. Wire codes for core (absl) errors come from wire::FromAbsl.
//
// Callers (issue 11, daemon/access.h): a connection holds the Grant of the caller it proved to
// be (HELLO's credentials, or a TLS client certificate; in open mode every connection holds the
// open grant). Without one, everything but HELLO and PING is answered UNAUTHENTICATED. Every
// other request is charged to the caller: its scope (PERMISSION_DENIED) and its rate (a CHECK
// costs one token per ID, a MEASURES one plus one per officer it sends, a FEEDBACK one per KiB
// of payload up to the burst: RATE_LIMITED with the wait). A MEASURES' officers are audited
// as queries of their own. A masked caller's answers are masked
// (core/masking.h). When the callers file was reloaded, a connection's grant is looked up again
// before its next request; a revoked one is answered UNAUTHENTICATED and the connection closes.
//
// Admin callers (the admin scope; in open mode Peer::admin_allowed) may RELOAD and see INFO
// whole; INFO withholds the data
// source and the reload message, which name files and the admin's address, from the others
// (FORMAT.md 8.5), and in version 2 the refused delta file and the delta directory's error
// (FORMAT.md 13). Version 2's INFO takes the generation, its base and its delta sequence from
// the one dataset that answers, so that a client can map a generation to (base, sequence).
//
// Thread safety: all methods are const and may be called from many threads at once; each
// reads the published dataset in its own RCU read section. REQUIRES: the calling thread
// holds an RcuThread.
#ifndef SHIXIN_DAEMON_HANDLER_H_
#define SHIXIN_DAEMON_HANDLER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/validity.h"
#include "daemon/access.h"
#include "daemon/auditor.h"
#include "daemon/config.h"
#include "daemon/reloader.h"
#include "daemon/snapshot_holder.h"
#include "protocol/operator_messages.h"
#include "protocol/wire.h"

namespace shixin {

class Metrics;

// Who sent a request.
struct Peer {
  std::string_view address;          // for the log, e.g. "127.0.0.1:52314"
  bool admin_allowed = false;        // open mode: may RELOAD and read INFO whole (a loopback peer,
                                     // or admin_loopback_only off)
  boost::asio::ip::address ip = {};  // failed authentications are counted per source
};

// The protocol state of one connection: its version, which only a HELLO sent as the
// connection's first request negotiates (FORMAT.md 4), and the caller it proved to be.
struct Session {
  uint8_t version = wire::kVersion;    // frames must carry it (wire::DecodeFrame's `version`)
  bool started = false;                // a request has been answered
  std::shared_ptr<const Grant> grant;  // null: not authenticated (yet)
  uint64_t epoch = 0;                  // the Access::epoch() `grant` was checked in
  uint64_t audit_ticket = 0;           // the last audit record appended for its answers
  bool audit_replay = false;           // answering again after the audit refused: no records
  // The JSON API's, whose names no str8 field limits: a CHECK adds here the whole name of each
  // answer whose name field it cut (FORMAT.md 7), with the answer's index. Null: none kept.
  std::vector<std::pair<size_t, std::string>>* whole_names = nullptr;
};

class Handler {
 public:
  // What the caller does after Handle().
  enum class Next {
    kContinue,  // a response was appended; keep reading
    kClose,     // a fatal error response was appended; close after writing it
    kReload,    // RELOAD accepted: nothing was appended (nor recorded); start the reload
                // Handle() described in `reload`, then call AppendReloadResult() with its outcome
  };

  // Returns the time, Unix seconds: what "now" is for staleness and for the list's validity.
  using Clock = std::function<int64_t()>;

  // `config` supplies the limits and the staleness policy; `holder` the published list;
  // `reloader` the delta state for INFO (null: none applied); `access` the callers (null: open
  // mode); `auditor` the audit (null: none, no receipts); `metrics` records every request
  // (null: none). They must outlive the Handler. `clock` is the real one but in tests.
  Handler(const Config& config, const SnapshotHolder* holder, Clock clock = NowSeconds,
          const Reloader* reloader = nullptr, Access* access = nullptr, Auditor* auditor = nullptr,
          Metrics* metrics = nullptr);

  // Answers the complete request frame `request` + `payload` from `peer` on the connection of
  // `session` (nullptr: a fresh one, for a single request), appending one response frame to
  // `out` (none for kReload), and records it in the metrics (a RELOAD when it is answered).
  // Returns what the caller must do next; for kReload, `*reload` is set to the reload the
  // request asks for (its origin names `peer`).
  // `turn_clock` (may be null) lets a connection time a turn's requests with one clock read
  // each: the request's latency counts from *turn_clock (the turn's start or the previous
  // request's end), and *turn_clock is set to its end.
  // REQUIRES: request.version == the session's version (as wire::DecodeFrame checks).
  Next Handle(const wire::FrameHeader& request, std::string_view payload, const Peer& peer,
              std::string* out, ReloadRequest* reload, Session* session = nullptr,
              std::chrono::steady_clock::time_point* turn_clock = nullptr) const;

  // Parses and looks up, together, the IDs of the complete CHECK and MEASURES frames at the
  // front of `input` (frames of `session`'s version, up to about kLookAheadIds IDs), prefetching
  // what their answers read, and leaves the CHECK frames' to this thread's Handle() calls for
  // those frames on `session` (daemon/check_lookahead.h): one read's pipelined requests wait on
  // their cache misses at once instead of one after the other. Answers nothing. Returns the
  // bytes of the frames it covered (0 if the first is neither a CHECK nor a MEASURES).
  // REQUIRES: the frames are answered by Handle() on this thread, from this same `input`
  // buffer, before the next LookAhead() on it.
  size_t LookAhead(std::string_view input, const Session& session) const;
  static constexpr size_t kLookAheadIds = 256;

  // Appends the response to RELOAD request `request_id` once the reload is done, in the
  // version of the connection's `session`, and records the request in the metrics: with the
  // status it answers, `session`'s caller and the time since `received` (when Handle() took
  // the request up), which covers the reload the client waited for.
  void AppendReloadResult(uint32_t request_id, const ReloadResult& result, std::string* out,
                          const Session& session,
                          std::chrono::steady_clock::time_point received) const;

  // Appends the fatal response to a frame that failed to decode.
  // REQUIRES: decoded.result == wire::DecodeResult::kInvalid.
  void AppendFrameError(const wire::Decoded& decoded, std::string* out,
                        uint8_t version = wire::kVersion) const;

  // Appends an error response with `status` and `message` to request `request_id`.
  // REQUIRES: status != wire::Status::kOk.
  void AppendError(uint8_t opcode, uint32_t request_id, wire::Status status,
                   std::string_view message, std::string* out,
                   uint8_t version = wire::kVersion) const;

  // Writes the audit records appended up to `ticket` (Session::audit_ticket) to the audit
  // file. Returns OK when they are written (or there is no audit); else the error, and those
  // records are gone: the caller must answer their requests again (Session::audit_replay)
  // before it sends any of the answers.
  absl::Status SyncAudit(uint64_t ticket) const;

  // Returns whether answers from `d` carry the STALE flag at Unix time `now`.
  bool IsStale(const Dataset* d, int64_t now) const;
  // The same for a list of `source_time` (Unix seconds).
  bool IsStale(int64_t source_time, int64_t now) const;

  // Returns OK unless MEASURES is refused for the audit: it cannot be written (Auditor::Writable)
  // and audit_required is set; then Unavailable with the reason. OK without an audit.
  absl::Status MeasuresAudited() const {
    return auditor_ == nullptr || !auditor_->required() ? absl::OkStatus() : auditor_->Writable();
  }

  // What identifies a published list across replicas (INFO's fields; the generation does not).
  struct ListId {
    uint64_t version = 0;     // SnapshotInfo::version, the base's content version
    int64_t source_time = 0;  // Unix seconds: the newest source data of the base
    uint64_t sequence = 0;    // the last delta in it: the base's or the last applied, the larger
  };
  // Returns the ListId of the list published as `generation`, or nullopt if that is not (or no
  // longer) the one published.
  std::optional<ListId> ListOf(uint32_t generation) const;

  // Returns the HELLO server name, e.g. "shixind/0.1.0".
  static std::string_view ServerName();

 private:
  struct Outcome;
  class Response;

  // Records the request of `opcode` answered by the frame at `frame` in `out`, from
  // `session`'s caller, in `took`. REQUIRES: metrics_ is not null.
  void Record(uint8_t opcode, std::string_view out, size_t frame, const Session& session,
              std::chrono::steady_clock::duration took) const;
  // Handle() without the metrics. REQUIRES: session is not null.
  Next HandleFrame(const wire::FrameHeader& request, std::string_view payload, const Peer& peer,
                   std::string* out, ReloadRequest* reload, Session& s) const;
  // Answers one request into `out` (the payload of the response). Returns its outcome, or
  // nullopt for an accepted RELOAD.
  std::optional<Outcome> Dispatch(uint8_t opcode, std::string_view payload, const Peer& peer,
                                  const SnapshotHolder::ReadSection& read, bool stale,
                                  Session& session, std::string* out, ReloadRequest* reload) const;

  Outcome Hello(std::string_view payload, const Dataset* d, const Peer& peer, Session& session,
                std::string* out) const;
  // Returns the refusal of a request `op` with `payload` from `session`'s caller (not
  // authenticated, a missing scope, over its rate), or nullopt once it is charged.
  std::optional<Outcome> Admit(wire::Opcode op, std::string_view payload,
                               const Session& session) const;
  // Returns the HELLO fields of version 3 that describe `session`'s caller into `hello`.
  void DescribeCaller(const Session& session, const Peer& peer, wire::HelloResponse* hello) const;
  // Returns INFO's security block for `session`'s caller (every caller's counts for an admin).
  wire::SecurityInfo SecurityOf(const Session& session, bool admin) const;
  // Sets `*at` to the instant a request asks about: `as_of` if it is within the history
  // window (and `d`'s base's history), else (wire::kAsOfNow) now. Returns the OUT_OF_RANGE
  // outcome otherwise.
  std::optional<Outcome> InstantOf(int64_t as_of, const Dataset& d, int64_t* at) const;
  Outcome CheckBatch(std::string_view payload, const Dataset& d, Session& session,
                     std::string* out) const;
  Outcome MeasuresOf(std::string_view payload, const Dataset& d, bool stale, Session& session,
                     std::string* out) const;
  Outcome Detail(std::string_view payload, const Dataset& d, Session& session,
                 std::string* out) const;
  Outcome Info(std::string_view payload, const SnapshotHolder::ReadSection& read, bool stale,
               const Peer& peer, const Session& session, std::string* out) const;
  // Returns INFO's delta state of `d` (the answering dataset); the texts only for an admin.
  wire::DeltaInfo DeltaInfoOf(const Dataset& d, bool admin) const;
  Outcome Feedback(std::string_view payload, const Dataset& d, Session& session,
                   std::string* out) const;
  // Records the query of `subject` answered from `d` for `session` (the audit's record), and
  // sets `*receipt` to its receipt ("" when the answer carries none, the audit is off, or it
  // cannot be written: `*failed` then says why). `officer`: the record of an officer a
  // MEASURES request sent, whose answer carries no receipt of its own. REQUIRES:
  // record->opcode, subject and listing set.
  void Audit(audit::QueryRecord* record, const wire::RequestContext& context, const Dataset& d,
             Session& session, std::string* receipt, absl::Status* failed,
             bool officer = false) const;
  // Returns nullopt (and sets `*reload`) when RELOAD is accepted.
  std::optional<Outcome> Reload(std::string_view payload, const Peer& peer,
                                ReloadRequest* reload) const;

  const Config config_;
  const SnapshotHolder* const holder_;
  const Reloader* const reloader_;
  std::unique_ptr<Access> own_access_;  // open mode when none is given
  Access* const access_;
  Auditor* const auditor_;
  Metrics* const metrics_;
  const absl::Time start_time_;
  const Clock clock_;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_HANDLER_H_
