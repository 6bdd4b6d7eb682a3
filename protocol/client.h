// A synchronous client of shixind: one TCP connection at a time (a new one to retry a call
// after a loss, ClientOptions), plain or TLS (OpenSSL), blocking calls
// with a timeout, and raw frame access for pipelining (send many requests, then read the
// responses by request id). Used by the CLI, the tests and the load tool.
//
// Thread safety: a Client is used by one thread at a time.
#ifndef SHIXIN_PROTOCOL_CLIENT_H_
#define SHIXIN_PROTOCOL_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/wire.h"

// OpenSSL's connection and context (openssl/ssl.h), used only by client.cc.
struct ssl_st;
struct ssl_ctx_st;

namespace shixin {

// How a Client speaks TLS (docs/shixind.md, "TLS"). The server's certificate is verified
// against `ca_file` and must name `server_name` (a DNS name or an IP address).
struct TlsOptions {
  bool enabled = false;     // false: plain TCP, the other fields are ignored
  std::string ca_file;      // PEM CAs that sign the server's certificate; empty: the system's
  std::string cert_file;    // PEM client certificate (mutual TLS); empty: none
  std::string key_file;     // its private key; required with cert_file
  std::string server_name;  // what the certificate must name; empty: the address's host
};

// A response with the metadata every response carries.
template <typename T>
struct Reply {
  T value;
  uint32_t generation = 0;
  bool stale = false;
  std::string receipt = {};  // version 4 MEASURES: the answer's receipt; "" = no audit, or none
};

// A CHECK answer that owns its strings.
struct CheckAnswerCopy {
  wire::CheckStatus status = wire::CheckStatus::kUnlisted;
  std::string error;
  std::string id;
  SubjectKind kind = SubjectKind::kPerson;
  uint16_t cases = 0;
  uint16_t roles = 0;
  std::string name;
  int64_t since = 0;         // version 2, kListed: the listing stretch (0: since ever)
  int64_t until = kForever;  // kForever: no known end
  std::string receipt = {};  // version 4, kListed and kRelated: "" = the server keeps no audit
};

// What a client authenticates with in HELLO (version 3, FORMAT.md 14). Both empty: none (open
// mode, or a TLS client certificate names the caller).
struct Credentials {
  std::string caller_id;  // at most wire::kMaxCallerIdBytes
  std::string token;      // at most wire::kMaxTokenBytes; never logged
  bool empty() const { return caller_id.empty() && token.empty(); }
};

// The environment variable that may hold the caller's token instead of --token-file.
inline constexpr char kTokenEnv[] = "SHIXIN_TOKEN";

// Returns the credentials of --caller `caller` with the token of --token-file `token_file` (its
// first line, without a leading UTF-8 byte order mark and surrounding white space) or else of
// `env_token` (SHIXIN_TOKEN's value, or null); none without a caller. InvalidArgument for a
// caller without a token, a token file without a caller, or an unreadable or empty token file.
// (The tools' one reading of them.)
absl::StatusOr<Credentials> ReadCredentials(const std::optional<std::string>& caller,
                                            const std::optional<std::string>& token_file,
                                            const char* env_token);

// What a Client does beyond one call on one connection, for replicas behind a load balancer
// (docs/replicas.md).
struct ClientOptions {
  // CHECK, MEASURES and DETAIL are sent once more, on a new connection to the same address
  // (with the HELLO of the first), when the connection is lost (EOF, reset, broken pipe) before
  // their whole answer arrived. Never RELOAD or FEEDBACK, nor after a timeout or a fatal status.
  // The new connection itself is opened up to kReconnectAttempts times, kReconnectPause x
  // 1, 2, 4, 8 apart, within the call's timeout, while it fails before carrying the request
  // (refused, or closed during HELLO: a balancer may still send it to the replica that just died);
  // a HELLO timed out or answered with an error (credentials refused: each try counts towards a
  // hold on them) is not repeated. The same holds for the first connection's first HELLO (Hello()),
  // which a balancer closes when the replica it chose hangs: closed during it, it is sent again on
  // a new connection up to kReconnectAttempts times in all.
  bool retry_idempotent = true;
  static constexpr int kReconnectAttempts = 5;
  static constexpr absl::Duration kReconnectPause = absl::Milliseconds(50);
  // Refuse an answer of CHECK, MEASURES or DETAIL from an older list than the newest this
  // client has seen (ListPosition): it is asked once more on a new connection (another replica,
  // behind a balancer), then the call fails with FailedPrecondition ("no going back: ...").
  bool no_going_back = false;
};

// Where a replica's list stands. One writer's lists are ordered by the last delta file in them
// (`sequence`: the largest of INFO's snapshot delta_sequence, base_sequence and sequence), since
// a compaction, or a court re-issue compiled with --delta-sequence N, starts a base at the
// sequence it holds; the same sequence on two bases is the same list (equal, never refused), as
// compaction moves a base's source_time forward. `source_time` orders only lists without any
// delta (sequence 0 both: each compile of a new export). A list at 0 is older than any with a
// delta: a re-issue compiled without --delta-sequence while deltas flow is outside the order
// (docs/feed.md, "A full re-issue"). Generations are per process and cannot be compared.
struct ListPosition {
  int64_t source_time = 0;
  uint64_t sequence = 0;
  bool operator<(const ListPosition& other) const {
    if (sequence != other.sequence) return sequence < other.sequence;
    return sequence == 0 && source_time < other.source_time;
  }
};

// Returns `p` as an operator reads it: "delta 5, source time 2026-12-05T10:20:00+08:00".
std::string FormatPosition(const ListPosition& p);

// Returns the position of the generation an INFO answer describes.
ListPosition PositionOf(const wire::InfoResponse& info);

// A raw response frame.
struct Frame {
  wire::FrameHeader header;
  std::string payload;
};

class Client {
 public:
  // Connects to `address` ("HOST:PORT", "[::1]:PORT"; HOST may be a name; base/socket.h's
  // ConnectTcp). Returns
  // InvalidArgument for a malformed address, Unavailable if resolving the name and connecting
  // do not succeed within `timeout`.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(std::string_view address,
                                                         absl::Duration timeout = absl::Seconds(5));
  // Same, over TLS when tls.enabled: the handshake must finish within `timeout` too. Returns
  // InvalidArgument for a certificate or key file OpenSSL cannot read (or a key that does not
  // match), Unavailable naming the reason when the handshake fails (the server's certificate
  // not verified), Unauthenticated ("the server refused this client's certificate") when the
  // server's alert refuses it; with TLS 1.3 that alert comes after the handshake, so the first
  // call (Hello()) fails so instead, and is not retried.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(std::string_view address,
                                                         const TlsOptions& tls,
                                                         absl::Duration timeout = absl::Seconds(5));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sets the timeout of each later call (default 10 s): a call's retries on new connections
  // (ClientOptions) end by it too, save no_going_back's INFO and DetailEach()'s answers (each).
  void set_timeout(absl::Duration timeout) { timeout_ = timeout; }
  // Returns the timeout of later calls.
  absl::Duration timeout() const { return timeout_; }
  // Sets the retry and no-going-back behaviour of later calls (ClientOptions).
  void set_options(const ClientOptions& options) { options_ = options; }
  // Returns the options later calls follow.
  const ClientOptions& options() const { return options_; }
  // Returns how many times this client opened a new connection to retry a call or a first HELLO.
  uint64_t reconnects() const { return reconnects_; }
  // Returns the newest list position seen with no_going_back, if any.
  const std::optional<ListPosition>& newest_position() const { return newest_; }

  // Typed calls. A response with a non-zero status becomes an error whose message starts with
  // the status name (e.g. "INVALID_ID: ..."); its code follows the status (InvalidArgument for
  // INVALID_ID, INVALID_ARGUMENT, FRAME_TOO_LARGE and BAD_PAYLOAD, FailedPrecondition for
  // STALE_REFUSED, Unavailable for UNAVAILABLE and BUSY, Aborted for RELOAD_FAILED,
  // PermissionDenied for PERMISSION_DENIED, Unauthenticated for UNAUTHENTICATED, ResourceExhausted
  // for RATE_LIMITED with the wait in RetryAfter() (shixind's message says it too), Internal
  // otherwise). A broken connection gives Unavailable (before any answer on it, its message says
  // why: protocol/unanswered_close.h), a timeout DeadlineExceeded ("CHECK: no
  // response in 1s", or "CHECK: not sent in 1s" when the server does not read), a response this
  // client cannot read (bad frame, wrong request id, malformed payload) Internal. Requests over the
  // protocol's limits (an ID, agency or scenario over 255 bytes, more than 16 officers, an
  // officer's role out of 0-6, 0 or more than 65535 IDs, a payload over HELLO's max_payload: the
  // same check for every request, pipelined or not) fail with InvalidArgument before anything is
  // sent; IsNotSent() tells such a refusal (of CHECK and MEASURES) from the server's answer. After
  // a timeout, a fatal status, or an error of the connection or of the framing (a bad frame, an
  // unexpected request id), the connection is closed (a late or garbled answer would be taken for
  // the next call's), and later calls return Unavailable. A malformed payload in a well-framed
  // response leaves the connection open. Hello() sends this client's highest version
  // (max_version(), 4 unless set lower) and uses the one the server answers: the version of all
  // later requests and responses. Non-empty `credentials` need version 3 (InvalidArgument before
  // sending if max_version() is lower or they are over their limits); a server that refuses them
  // answers UNAUTHENTICATED, which Hello() returns as Unauthenticated without trying again. A
  // Hello() that fails once sent (refused, or any error above) closes the connection, as a
  // retry's HELLO does: a refused HELLO negotiates nothing (FORMAT.md 14).
  // The answer (also hello()) names the caller, its scopes and view in
  // version 3. Check(), Measures() and Detail() ask as of `as_of` (Unix seconds; wire::kAsOfNow:
  // now), which needs version 2: on a version-1 connection an instant fails with FailedPrecondition
  // before anything is sent. An instant outside the server's history window is OUT_OF_RANGE
  // (OutOfRange). With version 2 the results carry the listing stretch (since, until) and the
  // cases' version-2 fields. Version 4 (FORMAT.md 15): Check() and Measures() send `context`
  // (request.context), which needs version 4 when not all "" (FailedPrecondition before sending,
  // InvalidArgument over its limits); their answers carry receipts (CheckAnswerCopy::receipt,
  // Reply::receipt). Feedback() needs version 4 (FailedPrecondition) and items that pass
  // wire::CheckFeedbackItems() (InvalidArgument); the server answers NOT_FOUND (NotFound) for an
  // unknown receipt and AUDIT_UNAVAILABLE (Unavailable) when it cannot record it. Check(),
  // Measures() and Detail() are retried and judged by list position as set_options() says
  // (ClientOptions); a retry whose new connection cannot be opened returns the connection's loss,
  // naming the reconnection's error, except that credentials refused there return the refusal
  // (Unauthenticated or PermissionDenied, the server's message first), the connection closed.
  absl::StatusOr<Reply<wire::HelloResponse>> Hello(std::string_view client_name,
                                                   const Credentials& credentials = {});
  absl::StatusOr<Reply<bool>> Ping();
  absl::StatusOr<Reply<std::vector<CheckAnswerCopy>>> Check(
      const std::vector<std::string>& ids, int64_t as_of = wire::kAsOfNow,
      const wire::RequestContext& context = {});
  absl::StatusOr<Reply<MeasuresResult>> Measures(const wire::MeasuresRequest& request);
  absl::StatusOr<Reply<CheckResult>> Detail(std::string_view id, int64_t as_of = wire::kAsOfNow);
  // Detail() and Measures() for many subjects, pipelined: up to `window` requests unanswered
  // (capped by HELLO's max_in_flight), and `answer(i, reply or error)` called for each request
  // in order, with what the single call would return. A lost connection is retried on a new one
  // from the first unanswered request if options().retry_idempotent, once per loss after some
  // progress. Returns OK once every request has had its answer, else the error that ended the
  // stream (the later requests get none). InvalidArgument or FailedPrecondition before anything
  // is sent for a request the single call would refuse so, and FailedPrecondition with
  // options().no_going_back (its check asks INFO between two answers: use the single calls).
  absl::Status DetailEach(
      const std::vector<std::string>& ids, int64_t as_of, size_t window,
      absl::FunctionRef<void(size_t, absl::StatusOr<Reply<CheckResult>>)> answer);
  // MeasuresEach() asks `request` about each of `ids` in turn (its own id is not used).
  absl::Status MeasuresEach(
      const wire::MeasuresRequest& request, const std::vector<std::string>& ids, size_t window,
      absl::FunctionRef<void(size_t, absl::StatusOr<Reply<MeasuresResult>>)> answer);
  // Info()'s answer has the delta state (InfoResponse::deltas) on a connection of version 2.
  absl::StatusOr<Reply<wire::InfoResponse>> Info();
  // Reload() waits for the reload to finish (set a timeout that allows for it).
  absl::StatusOr<Reply<wire::ReloadResponse>> Reload(const wire::ReloadRequest& request = {});
  // Catalog() returns Unimplemented without sending anything when an earlier Hello() showed
  // that the server does not offer CATALOG (such a server would close the connection).
  absl::StatusOr<Reply<wire::CatalogResponse>> Catalog();
  absl::StatusOr<Reply<wire::FeedbackResponse>> Feedback(const wire::FeedbackRequest& request);

  // Raw access. SendFrame() writes one request frame; SendBytes() writes arbitrary bytes (for
  // tests of malformed input); ReceiveFrame() reads the next response frame whole. Frames are
  // not checked beyond wire::DecodeFrame() and statuses are not interpreted. A ReceiveFrame()
  // timeout keeps the bytes read so far, so it may be retried; a SendBytes() timeout closes.
  absl::Status SendFrame(wire::Opcode op, uint32_t request_id, std::string_view payload);
  absl::Status SendBytes(std::string_view bytes);
  absl::StatusOr<Frame> ReceiveFrame();
  // Pipelining in batches: QueueFrame() adds a request frame to those Flush() writes together
  // (one write, over TLS one record up to 16 KiB, rather than one per frame). QueueFrame()
  // returns InvalidArgument for a payload over the protocol's limit (nothing queued); Flush()
  // returns as SendBytes(). SendFrame() and SendBytes() flush the queue first.
  absl::Status QueueFrame(wire::Opcode op, uint32_t request_id, std::string_view payload);
  absl::Status Flush();
  // Returns whether a whole response frame has been received and not yet returned, so that
  // ReceiveFrame() returns it without waiting.
  bool FrameBuffered() const;

  // Sets the highest version a later Hello() offers (1 to 4; an older client, for tests).
  void set_max_version(uint8_t version) { max_version_ = version; }
  // Returns the connection's version: 1 until a Hello() negotiated another.
  uint8_t version() const { return version_; }
  // Returns the last successful Hello()'s answer, if any.
  const std::optional<wire::HelloResponse>& hello() const { return hello_; }

  // Returns a fresh request id (1, 2, ...).
  uint32_t NextRequestId() { return ++last_request_id_; }

  // Returns the TLS version negotiated ("TLSv1.3"), or "" for plain TCP or after Close().
  std::string tls_version() const;

 private:
  Client(int fd, std::string_view address, const TlsOptions& tls, absl::Duration timeout)
      : fd_(fd), address_(address), tls_(tls), connect_timeout_(timeout) {}
  // Sends a request with a fresh id and reads the frame answering it, which must come next, by
  // the timeout (or `deadline` if sooner). Returns the frame if its status is OK, else the error
  // (StatusFromWire).
  absl::StatusOr<Frame> Call(wire::Opcode op, std::string_view payload,
                             absl::Time deadline = absl::InfiniteFuture());
  // Returns `frame`, received for request `id` of `op`, if it is that request's OK answer; else
  // the error as Call() returns it (closing the connection where Call() does).
  absl::StatusOr<Frame> Judge(wire::Opcode op, uint32_t id, absl::StatusOr<Frame> frame);
  // Returns InvalidArgument (NotSent()) if a payload of `payload_size` bytes of `op` is over the
  // server's limit (HELLO max_payload, else the protocol's), which it would refuse and close on.
  absl::Status FitsServer(wire::Opcode op, size_t payload_size) const;
  // Returns true if `h` is a response to request `id`, or a fatal error about a frame the server
  // could not read (request id 0), which answers whatever request is waiting.
  static bool Answers(const wire::FrameHeader& h, uint32_t id);
  // The pipelining of DetailEach() and MeasuresEach(): sends the payloads `encode(i, payload)`
  // writes for i in [0, count) with up to `window` unanswered and calls `answer(i, frame or its
  // error)` in order of i; retries after a loss as DetailEach() says.
  absl::Status CallPipelined(wire::Opcode op, size_t count, size_t window,
                             absl::FunctionRef<void(size_t, std::string*)> encode,
                             absl::FunctionRef<void(size_t, absl::StatusOr<Frame>)> answer);
  // Call() for CHECK, MEASURES and DETAIL: `encode` writes the payload in version_; retried on
  // a new connection as ClientOptions says (client_retry.cc).
  absl::StatusOr<Frame> CallIdempotent(wire::Opcode op,
                                       const std::function<void(std::string*)>& encode);
  // Opens a new connection to address_ and repeats the last HELLO on it; tries up to
  // ClientOptions::kReconnectAttempts times by `deadline`, while another try may succeed.
  absl::Status Reconnect(absl::Time deadline);
  // Sleeps before retry `attempt` (1, 2, ...) and returns true, or false if `deadline` comes first.
  static bool PauseBefore(int attempt, absl::Time deadline);
  // Reconnect() for a retry of `op` after `failure`; returns `failure` extended with the
  // reconnection's error, or Unavailable if the new connection speaks another version than
  // `version`.
  absl::Status ReconnectToRetry(wire::Opcode op, const absl::Status& failure, uint8_t version,
                                absl::Time deadline);
  // One attempt of Reconnect(): Reopen(), then the last HELLO again (HelloOnce()), closing the
  // connection if it fails. `*again` says whether another attempt may succeed (refused, or
  // closed during HELLO).
  absl::Status ConnectAgain(absl::Time deadline, bool* again);
  // Opens a new connection to address_ (closing the current one), without HELLO, by the connect
  // timeout or `deadline` if sooner.
  absl::Status Reopen(absl::Time deadline);
  // One HELLO on the current connection (Hello() retries the first one).
  absl::StatusOr<Reply<wire::HelloResponse>> HelloOnce(std::string_view client_name,
                                                       const Credentials& credentials,
                                                       absl::Time deadline);
  // Returns an error if the answer of `generation` comes from an older list than the newest
  // seen (`*older` set), or if INFO cannot tell its position; maps generations by INFO.
  absl::Status CheckNotOlder(wire::Opcode op, uint32_t generation, bool* older);
  absl::StatusOr<Frame> ReceiveFrameBy(absl::Time deadline);
  void Close();
  // Sets up TLS on fd_ and runs the handshake by `deadline`.
  absl::Status StartTls(std::string_view address, const TlsOptions& tls, absl::Time deadline);
  // Sends `bytes` whole by `deadline`; closes on an error. FlushBy(): Flush() so.
  absl::Status SendAll(std::string_view bytes, absl::Time deadline);
  absl::Status FlushBy(absl::Time deadline);
  // FlushBy() for a request of `op`, whose send timeout names it.
  absl::Status FlushFor(wire::Opcode op, absl::Time deadline);
  // Sends some of `bytes` (plain or TLS), waiting until `deadline`. Returns how many (> 0), or
  // the error; the caller closes.
  absl::StatusOr<size_t> SendSome(std::string_view bytes, absl::Time deadline);
  // Receives up to `size` bytes into `data` by `deadline`. Returns how many (0: the server
  // closed), DeadlineExceeded (nothing lost), or another error.
  absl::StatusOr<size_t> ReceiveSome(char* data, size_t size, absl::Time deadline);

  int fd_ = -1;
  std::string address_;  // of Connect(), for a retry's new connection
  TlsOptions tls_;
  absl::Duration connect_timeout_ = absl::Seconds(5);
  ClientOptions options_;
  // The last HELLO's arguments, repeated on a new connection (the token is never logged).
  std::optional<std::pair<std::string, Credentials>> hello_args_;
  bool lost_ = false;      // the connection broke (EOF, reset) during the current call
  bool answered_ = false;  // the connection has carried a response
  uint64_t reconnects_ = 0;
  std::map<uint32_t, ListPosition> positions_;  // this connection's generations, by INFO
  std::optional<ListPosition> newest_;          // the newest position seen (no_going_back)
  ssl_ctx_st* ssl_ctx_ = nullptr;               // TLS: owned
  ssl_st* ssl_ = nullptr;                       // TLS: owned
  uint8_t version_ = wire::kVersion;            // the header's version: 1 until HELLO negotiates
  uint8_t max_version_ = wire::kMaxVersion;
  std::optional<wire::HelloResponse> hello_;  // the last HELLO answer, if one was sent
  absl::Duration timeout_ = absl::Seconds(10);
  uint32_t last_request_id_ = 0;
  std::string buffer_;  // bytes received and not yet returned
  std::string queued_;  // frames QueueFrame() added, not yet sent
};

// Returns the absl status for a response's non-zero wire status and error message; for
// RATE_LIMITED with a known wait (version 3), `retry_after_ms` is in the status's payload
// (RetryAfter).
absl::Status StatusFromWire(wire::Status status, std::string_view message,
                            std::optional<uint32_t> retry_after_ms = std::nullopt);
// Returns the wait a RATE_LIMITED error of a version-3 connection announced, if any.
std::optional<absl::Duration> RetryAfter(const absl::Status& status);
// Returns `status` marked as a request refused before anything was sent (over a limit the
// client knows); IsNotSent() tells whether a status is so marked.
absl::Status NotSent(absl::Status status);
bool IsNotSent(const absl::Status& status);

}  // namespace shixin

#endif  // SHIXIN_PROTOCOL_CLIENT_H_
