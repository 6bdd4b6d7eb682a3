#include "daemon/connection_manager.h"

#include <utility>
#include <vector>

namespace shixin {

void ConnectionManager::Add(std::shared_ptr<Connection> connection) {
  Connection* raw = connection.get();
  connections_[raw] = std::move(connection);
  if (shutting_down_) {
    raw->Close();
    return;
  }
  raw->Start();
}

void ConnectionManager::AddRejected(std::shared_ptr<Connection> connection, wire::Status status,
                                    std::string_view message) {
  Connection* raw = connection.get();
  connections_[raw] = std::move(connection);
  raw->Reject(status, message);
}

void ConnectionManager::Remove(Connection* connection) { connections_.erase(connection); }

void ConnectionManager::ShutdownAll() {
  shutting_down_ = true;
  // Shutdown() may close a connection, which calls Remove(): iterate over a copy.
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(connections_.size());
  for (const auto& [raw, connection] : connections_) all.push_back(connection);
  for (const std::shared_ptr<Connection>& connection : all) connection->Shutdown();
}

}  // namespace shixin
