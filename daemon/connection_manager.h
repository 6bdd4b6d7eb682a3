// ConnectionManager owns the open connections of one I/O thread, so that shutdown can reach
// them: Add() starts a connection, AddByEvicting() starts one over the server's connection
// limit by closing the oldest idle connection (or closes the new one if none is idle),
// Remove() drops a connection once it has closed, ShutdownAll() asks each to finish
// gracefully.
//
// Thread safety: not thread-safe; used only on its I/O thread.
#ifndef SHIXIN_DAEMON_CONNECTION_MANAGER_H_
#define SHIXIN_DAEMON_CONNECTION_MANAGER_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "daemon/connection.h"

namespace shixin {

class ConnectionManager {
 public:
  ConnectionManager() = default;
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  // Keeps `connection` and starts it; after Shutdown(), closes it instead.
  void Add(std::shared_ptr<Connection> connection);
  // Makes room for `connection` (over max_connections) by closing the evictable connection
  // whose last request is oldest, then keeps and starts it; if no connection is evictable,
  // closes `connection` at once. Returns whether it was admitted.
  bool AddByEvicting(std::shared_ptr<Connection> connection);
  // Forgets `connection` (it has closed); it is destroyed when its last handler has run.
  void Remove(Connection* connection);
  // Asks every connection to finish the requests it has read and close; later Add()s are
  // closed at once.
  void ShutdownAll();
  // Has every connection look its caller up again (Connection::Revalidate()).
  void RevalidateAll();
  // Returns the number of connections kept.
  size_t size() const { return connections_.size(); }

 private:
  // Returns a copy of the connections: closing one calls Remove(), so loops run over a copy.
  std::vector<std::shared_ptr<Connection>> All() const;

  absl::flat_hash_map<Connection*, std::shared_ptr<Connection>> connections_;
  bool shutting_down_ = false;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONNECTION_MANAGER_H_
