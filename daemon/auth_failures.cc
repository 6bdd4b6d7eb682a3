#include "daemon/auth_failures.h"

#include <algorithm>
#include <cstdint>
#include <mutex>

#include "xxhash.h"

namespace shixin {
namespace {

namespace asio = boost::asio;

constexpr int64_t kNsPerSecond = 1'000'000'000;

AuthFailures::Options Sanitized(AuthFailures::Options options) {
  options.max_failures = std::max<uint32_t>(options.max_failures, 1);
  options.max_addresses = std::max<size_t>(options.max_addresses, 1);
  options.window_seconds = std::max<int64_t>(options.window_seconds, 0);
  options.block_seconds = std::max<int64_t>(options.block_seconds, 0);
  return options;
}

}  // namespace

AuthFailures::AuthFailures(const Options& options) : options_(Sanitized(options)) {}

AuthFailures::Key AuthFailures::KeyOf(const asio::ip::address& address) {
  if (address.is_v4()) {
    return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  }
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return v6.to_bytes();
  Key key = v6.to_bytes();
  std::fill(key.begin() + 8, key.end(), 0);
  return key;
}

AuthFailures::EntryKey AuthFailures::EntryKeyOf(const asio::ip::address& address,
                                                std::string_view identity) {
  return EntryKey{KeyOf(address), XXH3_64bits(identity.data(), identity.size())};
}

int64_t AuthFailures::BlockedFor(const asio::ip::address& address, int64_t now_ns,
                                 std::string_view identity) {
  const EntryKey key = EntryKeyOf(address, identity);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.blocked_until == 0) return 0;
  const int64_t left = it->second.blocked_until - now_ns;
  if (left <= 0) {
    EraseLocked(it);
    return 0;
  }
  // Rounded up; at most the block (should the clock have stepped back).
  return std::min((left + kNsPerSecond - 1) / kNsPerSecond, options_.block_seconds);
}

void AuthFailures::RecordFailure(const asio::ip::address& address, int64_t now_ns,
                                 std::string_view identity) {
  const EntryKey key = EntryKeyOf(address, identity);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_addresses) EvictOneLocked();
    it = entries_.try_emplace(key).first;
    it->second.position = counting_.insert(counting_.end(), key);
  }
  Entry& e = it->second;
  if (e.blocked_until != 0) {
    if (now_ns < e.blocked_until) return;
    e.blocked_until = 0;  // the block has ended: count afresh
    counting_.splice(counting_.end(), blocked_, e.position);
  }
  // Forget failures that left the window, then count this one.
  const int64_t window_start = now_ns - options_.window_seconds * kNsPerSecond;
  e.failures.erase(e.failures.begin(),
                   std::find_if(e.failures.begin(), e.failures.end(),
                                [window_start](int64_t t) { return t > window_start; }));
  e.failures.push_back(now_ns);
  if (e.failures.size() >= options_.max_failures) {
    e.failures.clear();
    e.failures.shrink_to_fit();
    // A block of 0 s still marks the entry blocked until now + 1 ns: it blocks nothing.
    e.blocked_until = now_ns + std::max<int64_t>(options_.block_seconds * kNsPerSecond, 1);
    blocked_.splice(blocked_.end(), counting_, e.position);
  } else {
    counting_.splice(counting_.end(), counting_, e.position);
  }
}

void AuthFailures::RecordSuccess(const asio::ip::address& address, std::string_view identity) {
  const EntryKey key = EntryKeyOf(address, identity);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) EraseLocked(it);
}

size_t AuthFailures::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void AuthFailures::EraseLocked(absl::flat_hash_map<EntryKey, Entry>::iterator it) {
  (it->second.blocked_until != 0 ? blocked_ : counting_).erase(it->second.position);
  entries_.erase(it);
}

void AuthFailures::EvictOneLocked() {
  const EntryKey& victim = !counting_.empty() ? counting_.front() : blocked_.front();
  EraseLocked(entries_.find(victim));
}

}  // namespace shixin
