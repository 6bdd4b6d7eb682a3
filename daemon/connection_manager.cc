#include "daemon/connection_manager.h"

#include <utility>
#include <vector>

#include "daemon/log.h"

namespace shixin {

void ConnectionManager::Add(std::shared_ptr<ManagedConnection> connection) {
  ManagedConnection* raw = connection.get();
  connections_[raw] = std::move(connection);
  raw->Start();
  if (shutting_down_) raw->Shutdown(drain_by_);
}

bool ConnectionManager::EvictOne(const std::string& newcomer, std::string_view limit) {
  ManagedConnection* oldest = nullptr;
  bool oldest_unproven = false;
  const ManagedConnection::Clock::time_point now = ManagedConnection::Clock::now();
  if (!shutting_down_) {
    for (const auto& [raw, kept] : connections_) {
      if (!raw->Evictable(now)) continue;
      // Unproven connections go first: they hold no caller's work.
      const bool unproven = raw->Unproven();
      if (oldest == nullptr || (unproven && !oldest_unproven) ||
          (unproven == oldest_unproven && raw->last_request() < oldest->last_request())) {
        oldest = raw;
        oldest_unproven = unproven;
      }
    }
  }
  if (oldest == nullptr) return false;
  LogDebug("closing idle connection from %s to admit %s (%s)", oldest->peer(), newcomer, limit);
  oldest->Close();
  return true;
}

void ConnectionManager::Remove(ManagedConnection* connection) { connections_.erase(connection); }

std::vector<std::shared_ptr<ManagedConnection>> ConnectionManager::All() const {
  std::vector<std::shared_ptr<ManagedConnection>> all;
  all.reserve(connections_.size());
  for (const auto& [raw, connection] : connections_) all.push_back(connection);
  return all;
}

void ConnectionManager::RevalidateAll() {
  for (const std::shared_ptr<ManagedConnection>& connection : All()) connection->Revalidate();
}

void ConnectionManager::ShutdownAll(ManagedConnection::Clock::time_point by) {
  shutting_down_ = true;
  drain_by_ = by;
  for (const std::shared_ptr<ManagedConnection>& connection : All()) connection->Shutdown(by);
}

}  // namespace shixin
