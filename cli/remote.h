// The shixin tool's server mode: the same commands and the same output as offline mode, but
// answered by a running shixind (--server HOST:PORT) over the binary protocol.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_REMOTE_H_
#define SHIXIN_CLI_REMOTE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/query_inputs.h"
#include "core/query.h"
#include "protocol/client.h"

namespace shixin {

// The flags every --server command takes besides --server: --timeout-ms, the caller's
// credentials (--caller ID, --token-file FILE; never a token on the command line, which `ps`
// shows), TLS (--tls, --ca FILE, --cert FILE, --key FILE) and replicas (--no-retry: no second
// try of CHECK, MEASURES or DETAIL on a new connection after a loss; --no-going-back: refuse
// an answer from an older list than one already seen; ClientOptions).
inline constexpr FlagSpec kConnectFlags[] = {{"server", true},    {"timeout-ms", true},
                                             {"caller", true},    {"token-file", true},
                                             {"tls", false},      {"ca", true},
                                             {"cert", true},      {"key", true},
                                             {"no-retry", false}, {"no-going-back", false}};

// Returns the credentials of --caller with the token of --token-file (its first line, without
// surrounding white space) or else of `env_token` (SHIXIN_TOKEN's value, or null); none without
// --caller. InvalidArgument for a --caller without a token, a token without --caller, or an
// unreadable or empty token file.
absl::StatusOr<Credentials> CallerCredentials(const Flags& flags, const char* env_token);

// Each returns the process exit status (see commands.h).
// Each connection starts with HELLO, with the caller's credentials if any, and speaks the
// version the daemon agrees (4 with shixind).
// check/detail: one DETAIL per valid ID (invalid IDs are reported without a round trip), as of
// `as_of` (wire::kAsOfNow: now), up to 64 in flight (Client::DetailEach; one at a time with
// --no-going-back); CHECKs of up to the server's max_batch IDs (within its max_payload) instead,
// with the request context and showing the receipts, when the flags give a context (--matter,
// --operator, --purpose) or the caller may not DETAIL. The inputs are asked a chunk at a time
// (QueryInputs), each chunk's requests pipelined; answers print in the inputs' order.
int RemoteCheck(const Flags& flags, QueryInputs& inputs, int64_t as_of);
// measures: one MEASURES per valid ID, with the flags' officers, agency, scenario and request
// context, pipelined as check's DETAILs; prints each answer's receipt. `officers` are at most
// wire::kMaxOfficers (the flags' parsing refuses more, in both modes).
int RemoteMeasures(const Flags& flags, QueryInputs& inputs, const std::vector<Officer>& officers,
                   int64_t as_of);
int RemoteInfo(const Flags& flags);
// Each returns the process exit status: a server's failure as ServerExitStatus() maps it.
// feedback: sends `request`; kExitInvalidId when the server refuses it (INVALID_ARGUMENT,
// NOT_FOUND), kExitDenied for PERMISSION_DENIED, kExitServer when it cannot be asked
// (AUDIT_UNAVAILABLE too).
int RemoteFeedback(const Flags& flags, const wire::FeedbackRequest& request);
// catalog: the daemon's CATALOG answer, printed as offline mode prints the catalog file.
int RemoteCatalog(const Flags& flags);
// reload: waits for the reload that serves the request; exits kExitLoad if the daemon refused
// the new list (--allow-shrink accepts one that removes more than its max_shrink), kExitStale
// if it reloaded but a delta file is still refused or missing (INFO: the later files wait).
int RemoteReload(const Flags& flags);

}  // namespace shixin

#endif  // SHIXIN_CLI_REMOTE_H_
