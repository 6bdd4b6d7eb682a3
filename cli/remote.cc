#include "cli/remote.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/terminal.h"
#include "callers/caller.h"
#include "cli/commands.h"
#include "cli/feedback_command.h"
#include "core/delta.h"
#include "protocol/client.h"
#include "protocol/operator_messages.h"
#include "protocol/render.h"

namespace shixin {
namespace {

// Returns the TLS options of --tls --ca FILE --cert FILE --key FILE; InvalidArgument for
// --ca, --cert or --key without --tls, or only one of --cert and --key.
absl::StatusOr<TlsOptions> TlsFlags(const Flags& flags) {
  TlsOptions tls;
  tls.enabled = flags.Has("tls");
  tls.ca_file = flags.Get("ca").value_or("");
  tls.cert_file = flags.Get("cert").value_or("");
  tls.key_file = flags.Get("key").value_or("");
  if (!tls.enabled && !(tls.ca_file + tls.cert_file + tls.key_file).empty()) {
    return absl::InvalidArgumentError("--ca, --cert and --key need --tls");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("--cert and --key go together");
  }
  return tls;
}

absl::StatusOr<std::unique_ptr<Client>> ConnectTo(const Flags& flags) {
  absl::StatusOr<uint64_t> timeout_ms = flags.GetUint("timeout-ms", 5000);
  if (!timeout_ms.ok()) return timeout_ms.status();
  if (*timeout_ms == 0) return absl::InvalidArgumentError("--timeout-ms must be at least 1");
  absl::StatusOr<Credentials> credentials = CallerCredentials(flags, std::getenv(kTokenEnv));
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<TlsOptions> tls = TlsFlags(flags);
  if (!tls.ok()) return tls.status();
  auto client = Client::Connect(*flags.Get("server"), *tls, absl::Milliseconds(*timeout_ms));
  if (!client.ok()) return client;
  (*client)->set_timeout(absl::Milliseconds(*timeout_ms));
  (*client)->set_options(ClientOptions{.retry_idempotent = !flags.Has("no-retry"),
                                       .no_going_back = flags.Has("no-going-back")});
  // Version 2 carries the listing stretch, the cases' history fields and --as-of; version 3
  // the credentials; version 4 the request context, receipts and FEEDBACK.
  absl::StatusOr<Reply<wire::HelloResponse>> hello = (*client)->Hello("shixin-cli", *credentials);
  if (!hello.ok()) return hello.status();
  return client;
}

// Prints the server's or the network's failure; returns its exit status (ServerExitStatus).
int ServerError(std::string_view command, const absl::Status& status) {
  std::fprintf(stderr, "shixin %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               TerminalSafe(std::string(status.message()), Quoting::kKept).c_str());
  return ServerExitStatus(status);
}

// ConnectTo()'s InvalidArgument is the flags' (an address, a timeout, TLS files without
// --tls, a token too long): a usage error; anything else, the server's or the network's.
int ConnectFailed(std::string_view command, const absl::Status& status) {
  return absl::IsInvalidArgument(status) ? UsageError(command, status)
                                         : ServerError(command, status);
}

// Returns the server's message without the status name the client puts in front of it
// ("INVALID_ARGUMENT: unknown scenario ..."), so both modes print the same reason.
std::string ServerReason(const absl::Status& status) {
  std::string message(status.message());
  const size_t colon = message.find(": ");
  if (colon != std::string::npos &&
      message.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == colon) {
    message.erase(0, colon + 2);
  }
  return message;
}

// A request the daemon refuses whatever the ID (an --as-of outside its history window, an
// unknown --scenario or --agency): a usage error, as offline (UsageError), printed once.
int RequestRefused(std::string_view command, const absl::Status& status) {
  std::fprintf(stderr, "shixin %.*s: %s (see shixin help)\n", static_cast<int>(command.size()),
               command.data(), TerminalSafe(ServerReason(status), Quoting::kKept).c_str());
  return kExitUsage;
}

// Whether a run's answers came from a stale list (FORMAT.md 5: valid for the list the server
// has, but that list is out of date). Said once on stderr, not once per ID (a screening of
// 100,000 IDs would drown any real error), and in each JSON answer ("stale", "generation", as
// the HTTP API says it), so that a script sees it on stdout; --fail-stale makes it the exit
// status.
class StaleWatch {
 public:
  explicit StaleWatch(bool fail) : fail_(fail) {}

  // Notes an answer's STALE flag; returns `json` (an answer's object) with "stale":true and
  // "generation" when the answer came from a stale list, else as it is.
  std::string Note(std::string json, bool stale, uint32_t generation) {
    if (!stale) return json;
    if (!seen_) {
      std::fprintf(stderr,
                   "shixin: warning: the server's list (generation %u) is older than its "
                   "max_age_seconds: its answers are marked stale (shixin info says how old)\n",
                   generation);
    }
    seen_ = true;
    if (json.empty() || json.back() != '}') return json;
    json.pop_back();
    return absl::StrFormat("%s,\"stale\":true,\"generation\":%u}", json, generation);
  }
  // Returns `status`, or kExitStale for a run with --fail-stale that saw a stale answer and
  // has no worse failure (usage, load, server).
  int Status(int status) const {
    return fail_ && seen_ && status <= kExitInvalidId ? kExitStale : status;
  }

 private:
  bool fail_;
  bool seen_ = false;
};

}  // namespace

absl::StatusOr<Credentials> CallerCredentials(const Flags& flags, const char* env_token) {
  return ReadCredentials(flags.Get("caller"), flags.Get("token-file"), env_token);
}

namespace {

// Returns whether the connection's caller may not ask DETAIL (a version-3 server in callers mode
// said so in HELLO): `shixin check` then asks CHECK and shows its answer; a caller without the
// `check` scope either is refused naming `check`, the least the command needs (not `detail`,
// which would have the administrator grant case texts).
bool NoDetailScope(const Client& client) {
  const std::optional<wire::HelloResponse>& hello = client.hello();
  return hello.has_value() && hello->version >= 3 && hello->mode == wire::SecurityMode::kCallers &&
         !HasScope(hello->scopes, Scope::kDetail);
}

// Returns whether the connection's caller has a rate limit (a version-3 server said so in
// HELLO): a run of many IDs then paces itself by the server's RATE_LIMITED waits. A rate below
// one a second is announced 0 with its burst (FORMAT.md 14): only both 0 is unlimited.
bool RateLimited(const Client& client) {
  const std::optional<wire::HelloResponse>& hello = client.hello();
  return hello.has_value() && hello->version >= 3 && (hello->rate > 0 || hello->burst > 0);
}

// The RATE_LIMITED answers one request may wait out before its error is printed.
constexpr int kRateWaits = 100;

// Returns `call()` of `client`, asked again after the wait the server announced while it answers
// RATE_LIMITED (a screening run outpaces its caller's rate; it should slow down, not fail), as
// long as the waits and the calls end within the client's timeout (--timeout-ms: the request's
// bound, its waits included); the RATE_LIMITED error once the next wait would end after it.
template <typename T>
absl::StatusOr<T> PacedByRate(Client& client, absl::FunctionRef<absl::StatusOr<T>()> call) {
  const absl::Duration timeout = client.timeout();
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<T> reply = call();
  for (int waits = 0; waits < kRateWaits && !reply.ok(); ++waits) {
    const std::optional<absl::Duration> wait = RetryAfter(reply.status());
    if (!wait.has_value()) break;
    if (absl::Now() + *wait >= deadline) {
      return absl::ResourceExhaustedError(absl::StrFormat("%s (a wait longer than --timeout-ms %d)",
                                                          reply.status().message(),
                                                          absl::ToInt64Milliseconds(timeout)));
    }
    absl::SleepFor(*wait);
    client.set_timeout(std::max(deadline - absl::Now(), absl::Milliseconds(1)));  // what is left
    reply = call();
    client.set_timeout(timeout);
  }
  return reply;
}

// Returns how many of `ids`, from `first` on, the next CHECK carries: at most `batch`, and no
// more than fit the server's max_payload (HELLO) with `overhead` payload bytes besides the IDs
// (at least one: a request that cannot fit even so is refused before it is sent).
size_t NextBatch(const std::vector<std::string>& ids, size_t first, size_t batch, size_t overhead,
                 size_t max_payload) {
  size_t size = overhead;
  size_t n = 0;
  while (first + n < ids.size() && n < batch) {
    size += 1 + std::min(ids[first + n].size(), wire::kMaxIdBytes);  // str8
    if (n > 0 && size > max_payload) break;
    ++n;
  }
  return n;
}

// Answers `ids` with CHECK (no cases, roles or officers: their counts go to `(*counts)[j]`), in
// CHECKs of up to the server's max_batch IDs (and the caller's burst: a CHECK costs one token per
// ID), each within the server's max_payload, and passes each answer, with its receipt (version
// 4), to `answer(j, ...)` in order. Returns the error that stopped it (an as-of instant refused is
// each ID's answer).
absl::Status CheckEach(Client& client, const std::vector<std::string>& ids, int64_t as_of,
                       const wire::RequestContext& context, std::vector<CheckCounts>* counts,
                       absl::FunctionRef<void(size_t, absl::StatusOr<Reply<CheckResult>>)> answer) {
  counts->assign(ids.size(), CheckCounts());
  const std::optional<wire::HelloResponse>& hello = client.hello();
  size_t batch = hello.has_value() ? std::max<size_t>(hello->max_batch, 1) : size_t{1};
  if (RateLimited(client)) batch = std::clamp<size_t>(hello->burst, 1, batch);
  const size_t max_payload = hello.has_value() && hello->max_payload > 0
                                 ? size_t{hello->max_payload}
                                 : size_t{wire::kMaxPayloadLimit};
  std::string empty;  // the payload without IDs: the count, the as-of instant, the context
  wire::Encode(wire::CheckRequest{{}, as_of, context}, &empty, client.version());
  for (size_t first = 0; first < ids.size();) {
    const size_t n = NextBatch(ids, first, batch, empty.size(), max_payload);
    const std::vector<std::string> part(ids.begin() + static_cast<ptrdiff_t>(first),
                                        ids.begin() + static_cast<ptrdiff_t>(first + n));
    auto reply = PacedByRate<Reply<std::vector<CheckAnswerCopy>>>(
        client, [&] { return client.Check(part, as_of, context); });
    for (size_t k = 0; k < part.size(); ++k) {
      if (!reply.ok()) {
        answer(first + k, reply.status());
        continue;
      }
      const CheckAnswerCopy& a = reply->value[k];  // Check() returns one answer per ID
      (*counts)[first + k] = CheckCounts{a.cases, a.roles};
      answer(first + k, Reply<CheckResult>{CheckResultOf(a, part[k]), reply->generation,
                                           reply->stale, a.receipt});
    }
    if (!reply.ok() && !absl::IsOutOfRange(reply.status())) return reply.status();
    first += n;
  }
  return absl::OkStatus();
}

// Returns whether `status` refuses a request before sending it, over a limit of the protocol or
// of the server (HELLO max_payload): the request's fault, every ID's alike, so a usage error,
// not one ID invalid nor the server unreachable.
bool Unsendable(const absl::Status& status) {
  return absl::IsInvalidArgument(status) && IsNotSent(status);
}

// DETAIL and MEASURES requests a run of many IDs keeps unanswered (HELLO's max_in_flight caps
// it): each round trip then carries dozens of answers instead of one.
constexpr size_t kPipelineWindow = 64;

// Prints a check's answer (or its error), a CHECK's with its `counts`; returns the exit status.
int PrintCheck(absl::StatusOr<Reply<CheckResult>> reply, bool json, StaleWatch& stale,
               const CheckCounts* counts = nullptr) {
  if (absl::IsOutOfRange(reply.status())) return RequestRefused("check", reply.status());
  if (Unsendable(reply.status())) return UsageError("check", reply.status());
  if (!reply.ok()) return ServerError("check", reply.status());
  std::string text;
  if (counts != nullptr) {
    text = json ? CheckAnswerJson(reply->value, *counts, reply->receipt)
                : CheckAnswerText(reply->value, *counts, reply->receipt);
  } else {
    text = json ? CheckJson(reply->value, reply->receipt) : CheckText(reply->value, reply->receipt);
  }
  std::cout << (json ? stale.Note(text, reply->stale, reply->generation) + "\n"
                     : stale.Note("", reply->stale, reply->generation) + text);
  return kExitOk;
}

// Prints a MEASURES answer for `id` (or its error); returns the exit status.
int PrintMeasures(std::string_view id, absl::StatusOr<Reply<MeasuresResult>> reply, bool json,
                  StaleWatch& stale) {
  if (absl::IsOutOfRange(reply.status())) return RequestRefused("measures", reply.status());
  if (Unsendable(reply.status())) return UsageError("measures", reply.status());
  if (!reply.ok()) {
    // The server's word on this query (e.g. officers for a person). A stale list refused
    // (FailedPrecondition) is the service's state, not the ID's: ServerError stops the run.
    if (absl::IsInvalidArgument(reply.status())) {
      const std::string reason = ServerReason(reply.status());
      std::cout << (json ? ErrorJson(id, reason) + "\n" : ErrorText(id, reason));
      return kExitInvalidId;
    }
    return ServerError("measures", reply.status());
  }
  const std::string text = json ? MeasuresJson(reply->value, reply->receipt)
                                : MeasuresText(reply->value, reply->receipt);
  std::cout << (json ? stale.Note(text, reply->stale, reply->generation) + "\n"
                     : stale.Note("", reply->stale, reply->generation) + text);
  return kExitOk;
}

// Asks `each` (a pipelined call of the client) about the valid IDs of `inputs`, a chunk at a
// time, and prints its answers, and the reasons of the invalid inputs, in the inputs' order (as
// ForEachId()). `each` gets a chunk's IDs' texts and a callback to pass the j-th reply to, in
// order of j; `print` prints a reply and returns its exit status.
template <typename ReplyT>
int Pipelined(std::string_view command, QueryInputs& inputs, bool json,
              absl::FunctionRef<absl::Status(const std::vector<std::string>&,
                                             absl::FunctionRef<void(size_t, ReplyT)>)>
                  each,
              absl::FunctionRef<int(size_t, ReplyT)> print) {
  InputIds in(inputs, command, json);
  std::vector<std::string> ids;
  while (in.Next()) {
    ids.clear();
    for (const Id& id : in.ids()) ids.emplace_back(id.text());
    size_t answered = 0;  // ids[j] for j < answered were answered; the first unanswered if less
    const absl::Status s = each(ids, [&](size_t j, ReplyT reply) {
      if (in.stopped()) return;  // after a fatal answer the rest is not printed
      in.Reach(j);
      in.Record(print(j, std::move(reply)));
      if (!in.stopped()) answered = j + 1;
    });
    if (in.stopped()) {
      if (in.status() != kExitUsage) in.SayStoppedAt(answered);
      return in.status();
    }
    if (Unsendable(s)) return UsageError(command, s);  // nothing of the chunk was sent
    if (!s.ok()) {
      const int status = ServerError(command, s);
      if (answered < ids.size()) in.SayStoppedAt(answered);
      return status;
    }
    in.Reach(ids.size());
  }
  return in.status();
}

}  // namespace

int RemoteCheck(const Flags& flags, QueryInputs& inputs, int64_t as_of) {
  auto client = ConnectTo(flags);
  if (!client.ok()) return ConnectFailed("check", client.status());
  const bool json = flags.Has("json");
  // A query made for a matter is a CHECK (recorded, with a receipt); DETAIL is not recorded.
  const wire::RequestContext context = ContextFromFlags(flags).value_or(wire::RequestContext());
  const bool check_only = NoDetailScope(**client) || HasContextFlags(flags);
  StaleWatch stale(flags.Has("fail-stale"));
  if (!check_only && ((*client)->options().no_going_back || RateLimited(**client))) {
    return stale.Status(ForEachId(inputs, "check", json, [&](const Id& id, bool json) {
      return PrintCheck(PacedByRate<Reply<CheckResult>>(
                            **client, [&] { return (*client)->Detail(id.text(), as_of); }),
                        json, stale);
    }));
  }
  using R = absl::StatusOr<Reply<CheckResult>>;
  std::vector<CheckCounts> counts;  // of CHECK answers, by index
  return stale.Status(Pipelined<R>(
      "check", inputs, json,
      [&](const std::vector<std::string>& ids, absl::FunctionRef<void(size_t, R)> answer) {
        return check_only ? CheckEach(**client, ids, as_of, context, &counts, answer)
                          : (*client)->DetailEach(ids, as_of, kPipelineWindow, answer);
      },
      [&](size_t j, R reply) {
        return PrintCheck(std::move(reply), json, stale, check_only ? &counts[j] : nullptr);
      }));
}

namespace {

// Returns OK if the catalog the server applies (CATALOG, where offered) knows `request`'s agency
// (an id or a name) and scenario; else InvalidArgument as the server's, which would refuse
// every ID alike.
absl::Status CheckFilters(Client& client, const wire::MeasuresRequest& request) {
  if (request.agency.empty() && request.scenario.empty()) return absl::OkStatus();
  const auto catalog =
      PacedByRate<Reply<wire::CatalogResponse>>(client, [&] { return client.Catalog(); });
  if (!catalog.ok()) return absl::OkStatus();  // an older server: it says so per ID
  const wire::CatalogResponse& c = catalog->value;
  if (!request.agency.empty() &&
      std::none_of(c.agencies.begin(), c.agencies.end(), [&](const wire::CatalogAgency& a) {
        return a.id == request.agency || a.name == request.agency;
      })) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unknown agency \"%s\"", TerminalSafe(request.agency)));
  }
  if (!request.scenario.empty() &&
      std::none_of(c.scenarios.begin(), c.scenarios.end(),
                   [&](const wire::CatalogScenario& s) { return s.id == request.scenario; })) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unknown scenario \"%s\"", TerminalSafe(request.scenario)));
  }
  return absl::OkStatus();
}

}  // namespace

int RemoteMeasures(const Flags& flags, QueryInputs& inputs, const std::vector<Officer>& officers,
                   int64_t as_of) {
  auto client = ConnectTo(flags);
  if (!client.ok()) return ConnectFailed("measures", client.status());
  const bool json = flags.Has("json");
  wire::MeasuresRequest request;
  request.agency = flags.Get("agency").value_or("");
  request.scenario = flags.Get("scenario").value_or("");
  for (const Officer& o : officers) request.officers.emplace_back(o.role, std::string(o.id.text()));
  request.as_of = as_of;
  request.context = ContextFromFlags(flags).value_or(wire::RequestContext());
  if (absl::Status s = CheckFilters(**client, request); !s.ok()) return UsageError("measures", s);
  StaleWatch stale(flags.Has("fail-stale"));
  if ((*client)->options().no_going_back || RateLimited(**client)) {
    return stale.Status(ForEachId(inputs, "measures", json, [&](const Id& id, bool json) {
      request.id = std::string(id.text());
      return PrintMeasures(id.text(),
                           PacedByRate<Reply<MeasuresResult>>(
                               **client, [&] { return (*client)->Measures(request); }),
                           json, stale);
    }));
  }
  using R = absl::StatusOr<Reply<MeasuresResult>>;
  const std::vector<std::string>* asked = nullptr;
  return stale.Status(Pipelined<R>(
      "measures", inputs, json,
      [&](const std::vector<std::string>& ids, absl::FunctionRef<void(size_t, R)> answer) {
        asked = &ids;
        return (*client)->MeasuresEach(request, ids, kPipelineWindow, answer);
      },
      [&](size_t j, R reply) {
        return PrintMeasures((*asked)[j], std::move(reply), json, stale);
      }));
}

int RemoteInfo(const Flags& flags) {
  auto client = ConnectTo(flags);
  if (!client.ok()) return ConnectFailed("info", client.status());
  auto reply = PacedByRate<Reply<wire::InfoResponse>>(**client, [&] { return (*client)->Info(); });
  if (!reply.ok()) return ServerError("info", reply.status());
  const wire::InfoResponse& i = reply->value;
  // 2 the delta state, 3 the security block, 4 the audit block
  const uint8_t version = (*client)->version();
  std::cout << (flags.Has("json") ? InfoJson(i, version) + "\n" : InfoText(i, version));
  return kExitOk;
}

int RemoteCatalog(const Flags& flags) {
  auto client = ConnectTo(flags);
  if (!client.ok()) return ConnectFailed("catalog", client.status());
  auto reply =
      PacedByRate<Reply<wire::CatalogResponse>>(**client, [&] { return (*client)->Catalog(); });
  if (!reply.ok()) return ServerError("catalog", reply.status());
  std::cout << (flags.Has("json") ? CatalogJson(reply->value) + "\n" : CatalogText(reply->value));
  return kExitOk;
}

int RemoteFeedback(const Flags& flags, const wire::FeedbackRequest& request) {
  auto client = ConnectTo(flags);
  if (!client.ok()) return ConnectFailed("feedback", client.status());
  // A FEEDBACK refused RATE_LIMITED was not recorded: asked again, it is recorded once.
  auto reply = PacedByRate<Reply<wire::FeedbackResponse>>(
      **client, [&] { return (*client)->Feedback(request); });
  if (!reply.ok()) {
    const absl::Status& s = reply.status();
    // The server's word on this feedback: print it, exit as for a refused query (a caller
    // not allowed to give it exits as any caller refused).
    if (absl::IsInvalidArgument(s) || absl::IsNotFound(s) || absl::IsPermissionDenied(s)) {
      std::fprintf(stderr, "shixin feedback: refused: %s\n",
                   TerminalSafe(std::string(s.message()), Quoting::kKept).c_str());
      return absl::IsPermissionDenied(s) ? kExitDenied : kExitInvalidId;
    }
    return ServerError("feedback", s);
  }
  std::cout << (flags.Has("json") ? FeedbackJson(request, reply->value) + "\n"
                                  : FeedbackText(request, reply->value));
  return kExitOk;
}

int RemoteReload(const Flags& flags) {
  auto client = ConnectTo(flags);
  if (!client.ok()) return ConnectFailed("reload", client.status());
  // A reload of a national list takes a while, and one may be running already (the daemon then
  // answers after the reload that follows it): wait for it. The waits for RATE_LIMITED stay
  // within --timeout-ms (the client's timeout outside the call).
  const auto reload = [&] {
    const absl::Duration timeout = (*client)->timeout();
    (*client)->set_timeout(absl::Minutes(10));
    auto reply = (*client)->Reload(wire::ReloadRequest{.allow_shrink = flags.Has("allow-shrink")});
    (*client)->set_timeout(timeout);
    return reply;
  };
  auto reply = PacedByRate<Reply<wire::ReloadResponse>>(**client, reload);
  if (!reply.ok()) return ServerError("reload", reply.status());
  // The message names the new generation ("generation N: ...").
  std::cout << "reloaded " << reply->value.message << "\n";
  // The reload tried the delta files again: one still refused (or missing) holds back every
  // file after it, and the list stops advancing. A `reload || alert` script must hear of it.
  if ((*client)->version() < 2) return kExitOk;
  auto info = PacedByRate<Reply<wire::InfoResponse>>(**client, [&] { return (*client)->Info(); });
  if (!info.ok()) return kExitOk;  // the reload itself succeeded; INFO may be out of scope
  const wire::DeltaInfo& d = info->value.deltas;
  if (!d.refused.empty()) {
    std::fprintf(stderr,
                 "shixin reload: a delta file is refused: %s; it and the files after it "
                 "(%llu pending) wait until it is replaced\n",
                 d.refused.c_str(), static_cast<unsigned long long>(d.pending));
    return kExitStale;
  }
  if (d.gap) {
    std::fprintf(stderr,
                 "shixin reload: delta file %s is missing; the files after it (%llu pending) wait "
                 "for it\n",
                 DeltaFileName(d.gap_after + 1).c_str(),
                 static_cast<unsigned long long>(d.pending));
    return kExitStale;
  }
  return kExitOk;
}

}  // namespace shixin
