#include "daemon/access.h"

#include <openssl/crypto.h>
#include <time.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "daemon/log.h"

namespace shixin {
namespace {

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr char kTokenCredential[] = "token:";
constexpr char kCertificateCredential[] = "cert:";

// Returns whether `caller` still holds `credential` (Grant::credential).
bool Holds(const Caller& caller, std::string_view credential_text) {
  absl::string_view credential(credential_text.data(), credential_text.size());
  const std::vector<std::string>* held = nullptr;
  if (absl::ConsumePrefix(&credential, kTokenCredential)) held = &caller.token_hashes;
  if (absl::ConsumePrefix(&credential, kCertificateCredential)) held = &caller.certificates;
  return held != nullptr && std::find(held->begin(), held->end(), credential) != held->end();
}

}  // namespace

bool Grant::ByCertificate() const { return credential.starts_with(kCertificateCredential); }

std::optional<Scope> ScopeOf(wire::Opcode op) {
  switch (op) {
    case wire::Opcode::kCheck:
      return Scope::kCheck;
    case wire::Opcode::kMeasures:
      return Scope::kMeasures;
    case wire::Opcode::kDetail:
      return Scope::kDetail;
    case wire::Opcode::kFeedback:
      return Scope::kFeedback;
    case wire::Opcode::kReload:
      return Scope::kAdmin;
    case wire::Opcode::kHello:
    case wire::Opcode::kPing:
    case wire::Opcode::kInfo:
    case wire::Opcode::kCatalog:
      return std::nullopt;
  }
  return Scope::kAdmin;  // an opcode added later is closed until it is given its scope
}

Access::Access(std::string path, Catalog catalog, std::string beyond_loopback)
    : path_(std::move(path)),
      catalog_(std::move(catalog)),
      beyond_loopback_(std::move(beyond_loopback)) {}

std::unique_ptr<Access> Access::OpenMode() {
  std::unique_ptr<Access> access(new Access("", Catalog(), ""));
  auto grant = std::make_shared<Grant>();
  grant->caller.id = "open";
  grant->caller.name = "open development mode";
  grant->caller.sector = "admin";
  grant->caller.scopes = kAllScopes;
  grant->caller.view = View::kFull;
  grant->counters = std::make_shared<CallerCounters>();
  access->counters_.emplace("open", grant->counters);
  access->open_grant_ = std::move(grant);
  return access;
}

absl::StatusOr<std::unique_ptr<Access>> Access::FromFile(std::string callers_file, Catalog catalog,
                                                         std::string beyond_loopback) {
  std::unique_ptr<Access> access(
      new Access(std::move(callers_file), std::move(catalog), std::move(beyond_loopback)));
  if (absl::Status s = access->Reload(); !s.ok()) return s;
  return access;
}

absl::Status Access::Reload() {
  if (open()) return absl::OkStatus();
  // Against the catalog: the table's agencies are ids, whatever the file names them by.
  absl::StatusOr<CallerTable> loaded = LoadCallersFile(path_, &catalog_);
  absl::Status s = loaded.status();
  std::lock_guard<std::mutex> lock(mu_);
  // A file emptied by mistake (a config-management run, a copy cut short) would refuse every
  // agency at once, the admin asking for the reload included; stopping shixind does it on purpose.
  if (s.ok() && loaded->callers().empty() && table_ != nullptr && !table_->callers().empty()) {
    s = absl::FailedPreconditionError(absl::StrFormat(
        "%s names no caller: it would refuse every agency at once (to refuse every caller, stop "
        "shixind)",
        path_));
  }
  // The example file's tokens are published: anyone could authenticate with them.
  std::string published;
  if (s.ok()) {
    if (const std::vector<std::string> ids = CallersWithPublishedTokens(*loaded); !ids.empty()) {
      published = absl::StrFormat(
          "PUBLISHED CREDENTIAL: caller(s) %s of %s hold a token published in the shipped "
          "example callers file (callers.toml.example): anyone can authenticate as them; give "
          "each a token of its own: shixin caller token --file %s --id ID --replace",
          absl::StrJoin(ids, ", "), path_, path_);
    }
    if (!published.empty() && !beyond_loopback_.empty()) {
      s = absl::FailedPreconditionError(absl::StrFormat(
          "%s (refused: shixind listens beyond loopback, %s)", published, beyond_loopback_));
    }
  }
  if (!s.ok()) {
    last_error_ = std::string(s.message());
    return s;
  }
  last_error_.clear();
  published_ = std::move(published);
  table_ = std::make_shared<const CallerTable>(*std::move(loaded));
  for (const Caller& c : table_->callers()) {
    Limit& limit = limits_[c.id];
    if (limit.bucket == nullptr || limit.rate != c.rate || limit.burst != c.burst) {
      limit = Limit{c.rate, c.burst, std::make_shared<TokenBucket>(c.rate, c.burst)};
    }
    std::shared_ptr<CallerCounters>& counters = counters_[c.id];
    if (counters == nullptr) counters = std::make_shared<CallerCounters>();
  }
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

std::string Access::PublishedTokenWarning() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

std::shared_ptr<const CallerTable> Access::table() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

std::shared_ptr<const Grant> Access::MakeGrant(const Caller& caller, std::string credential) const {
  auto grant = std::make_shared<Grant>();
  grant->caller = caller;
  grant->credential = std::move(credential);
  grant->bucket = limits_.at(caller.id).bucket;
  grant->counters = counters_.at(caller.id);
  return grant;
}

absl::Status Access::HeldOff(const boost::asio::ip::address& address, std::string_view identity,
                             int64_t now) {
  if (const int64_t wait = failures_.BlockedFor(address, now, identity); wait > 0) {
    return absl::UnauthenticatedError(absl::StrFormat(
        "too many failed authentications with these credentials from this address; try again "
        "in %d s",
        wait));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Grant>> Access::Authenticate(
    std::string_view caller_id, std::string_view token, const boost::asio::ip::address& address) {
  if (open()) return open_grant_;
  const int64_t now = MonotonicNanos();
  const std::string identity = std::string("hello:").append(caller_id);
  // The credentials are checked first: a hold refuses wrong ones only, so that anyone who can
  // name a caller (ids are not secret) cannot lock it out from a proxy's shared address.
  const std::shared_ptr<const CallerTable> t = table();
  absl::StatusOr<const Caller*> caller = t->Authenticate(caller_id, token);
  if (!caller.ok()) {
    CountRefused(AuthVia::kHello);
    {
      // Counted during a hold too: an operator must tell five guesses from five million.
      std::lock_guard<std::mutex> lock(mu_);
      if (const auto it = counters_.find(std::string(caller_id)); it != counters_.end()) {
        it->second->auth_failures.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (absl::Status held = HeldOff(address, identity, now); !held.ok()) return held;
    failures_.RecordFailure(address, now, identity);
    return caller.status();
  }
  // A success during a hold leaves the hold to the wrong credentials it was made by.
  if (failures_.BlockedFor(address, now, identity) == 0) failures_.RecordSuccess(address, identity);
  std::lock_guard<std::mutex> lock(mu_);
  return MakeGrant(**caller, absl::StrCat(kTokenCredential, HashToken(token)));
}

absl::StatusOr<std::shared_ptr<const Grant>> Access::AuthenticateToken(
    std::string_view token, const boost::asio::ip::address& address) {
  if (open()) return open_grant_;
  const int64_t now = MonotonicNanos();
  // Every stored hash is compared, in constant time: the time does not tell which one matched.
  const std::string hash = HashToken(token);
  const std::string identity = absl::StrCat("bearer:", hash);
  const std::shared_ptr<const CallerTable> t = table();
  const Caller* found = nullptr;
  for (const Caller& caller : t->callers()) {
    for (const std::string& stored : caller.token_hashes) {
      const bool same = stored.size() == hash.size() &&
                        CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) == 0;
      if (same && found == nullptr) found = &caller;
    }
  }
  if (found == nullptr) {  // a hold refuses wrong tokens only, as Authenticate()'s
    CountRefused(AuthVia::kBearer);
    if (absl::Status held = HeldOff(address, identity, now); !held.ok()) return held;
    failures_.RecordFailure(address, now, identity);
    return absl::UnauthenticatedError("unknown or wrong token");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return MakeGrant(*found, absl::StrCat(kTokenCredential, hash));
}

absl::StatusOr<std::shared_ptr<const Grant>> Access::ForCertificate(std::string_view fingerprint,
                                                                    std::string_view cn) const {
  if (open()) return open_grant_;
  const std::shared_ptr<const CallerTable> t = table();
  const Caller* caller = t->FindByCertificate(fingerprint, cn);
  if (caller == nullptr) {
    return absl::UnauthenticatedError("the client certificate belongs to no caller");
  }
  // The entry that matched: the fingerprint before the name, as FindByCertificate() prefers.
  std::string entry(fingerprint);
  if (std::find(caller->certificates.begin(), caller->certificates.end(), entry) ==
      caller->certificates.end()) {
    entry = absl::StrCat("cn:", std::string(cn));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return MakeGrant(*caller, absl::StrCat(kCertificateCredential, entry));
}

std::shared_ptr<const Grant> Access::Revalidate(const Grant& grant) const {
  if (open()) return open_grant_;
  const std::shared_ptr<const CallerTable> t = table();
  const Caller* caller = t->Find(grant.caller.id);
  if (caller == nullptr || !Holds(*caller, grant.credential)) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  return MakeGrant(*caller, grant.credential);
}

bool Access::Refresh(std::shared_ptr<const Grant>* grant, uint64_t* epoch) const {
  const uint64_t now = this->epoch();
  if (*grant == nullptr || *epoch == now) return true;
  *epoch = now;
  *grant = Revalidate(**grant);
  return *grant != nullptr;
}

Access::Decision Access::Admit(const Grant& grant, std::optional<Scope> scope,
                               uint32_t cost) const {
  if (scope && !grant.Has(*scope)) {
    grant.counters->denied.fetch_add(1, std::memory_order_relaxed);
    return Decision{wire::Status::kPermissionDenied, 0};
  }
  if (grant.bucket != nullptr) {
    if (const uint32_t wait = grant.bucket->Take(MonotonicNanos(), cost); wait > 0) {
      grant.counters->rate_limited.fetch_add(1, std::memory_order_relaxed);
      return Decision{wire::Status::kRateLimited, wait};
    }
  }
  grant.counters->requests.Add();
  return Decision{};
}

void Access::Deny(const Grant& grant) const {
  grant.counters->requests.Subtract();
  grant.counters->denied.fetch_add(1, std::memory_order_relaxed);
}

std::vector<CallerCount> Access::Counts() const {
  std::vector<CallerCount> counts;
  std::lock_guard<std::mutex> lock(mu_);
  auto add = [&](const std::string& id) {
    const auto it = counters_.find(id);
    if (it == counters_.end()) return;
    counts.push_back(CallerCount{id, it->second->requests.Read(),
                                 it->second->rate_limited.load(std::memory_order_relaxed),
                                 it->second->denied.load(std::memory_order_relaxed),
                                 it->second->auth_failures.load(std::memory_order_relaxed)});
  };
  if (open()) {
    add("open");
  } else {
    for (const Caller& c : table_->callers()) add(c.id);
  }
  return counts;
}

std::string Access::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

}  // namespace shixin
