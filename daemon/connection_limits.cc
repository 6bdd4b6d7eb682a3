#include "daemon/connection_limits.h"

namespace shixin {

namespace asio = boost::asio;

ConnectionLimits::ConnectionLimits(uint32_t max_total, uint32_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address) {}

ConnectionLimits::Key ConnectionLimits::KeyOf(const asio::ip::address& address) {
  // IPv4 and IPv4-mapped IPv6 are one client.
  if (address.is_v4()) {
    return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  }
  return address.to_v6().to_bytes();
}

ConnectionLimits::Admission ConnectionLimits::Admit(const asio::ip::address& address) {
  const Key key = KeyOf(address);
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ >= static_cast<int64_t>(max_total_) + kEvictionSlack) {
    ++refused_;
    return Admission::kRefusedTotal;
  }
  uint32_t& count = per_address_[key];
  if (max_per_address_ != 0 && count >= max_per_address_) {
    ++refused_;
    return Admission::kRefusedAddress;
  }
  ++count;
  ++open_;
  return open_ > static_cast<int64_t>(max_total_) ? Admission::kMustEvict : Admission::kAdmitted;
}

void ConnectionLimits::CountRefused() {
  std::lock_guard<std::mutex> lock(mu_);
  ++refused_;
}

uint64_t ConnectionLimits::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

void ConnectionLimits::Release(const asio::ip::address& address) {
  const Key key = KeyOf(address);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_address_.find(key);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  --open_;
}

int64_t ConnectionLimits::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace shixin
