// ConnectionManager owns the open connections of one I/O thread, of either kind (binary
// Connection, HttpConnection: both are a ManagedConnection), so that shutdown can reach them: Add()
// starts a connection, EvictOne() closes the oldest idle connection to make room for a new one
// over the server's connection limit (the server asks each I/O thread's manager in turn),
// Remove() drops a connection once it has closed, ShutdownAll() asks each to finish gracefully.
//
// Thread safety: not thread-safe; used only on its I/O thread.
#ifndef SHIXIN_DAEMON_CONNECTION_MANAGER_H_
#define SHIXIN_DAEMON_CONNECTION_MANAGER_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace shixin {

// What the manager needs of a connection. Every method is called on the connection's I/O
// thread.
class ManagedConnection {
 public:
  using Clock = std::chrono::steady_clock;
  // Evictable() is false until the last request (or the start) is this old, so that a new
  // client has the time to send its first request.
  static constexpr std::chrono::milliseconds kMinIdleToEvict{200};

  virtual ~ManagedConnection() = default;
  // Starts serving. REQUIRES: the connection is owned by a shared_ptr.
  virtual void Start() = 0;
  // Stops serving (the daemon stops): answers the requests that have reached the socket and
  // closes; closes regardless at `by` (the drain deadline: drain_seconds after SIGTERM).
  virtual void Shutdown(Clock::time_point by) = 0;
  // Closes the socket now (and calls ConnectionManager::Remove()); pending responses are
  // dropped.
  virtual void Close() = 0;
  // After the callers file was reloaded: closes the connection if its caller was revoked.
  virtual void Revalidate() = 0;
  // Returns whether the connection may be closed at `now` to make room for a new client: it
  // serves, has no request in progress, and its last request is at least kMinIdleToEvict old;
  // or it is Unproven() and was accepted at least kMinIdleToEvict ago, whatever it sends.
  virtual bool Evictable(Clock::time_point now) const = 0;
  // Returns whether, in callers mode, the connection has proved no caller yet (a binary one
  // not authenticated; an HTTP one none of whose requests carried accepted credentials). Such
  // connections are evicted before any other: a client that can reach the port but holds no
  // credentials must not keep the agencies out by sending PINGs (or /healthz) to stay busy.
  virtual bool Unproven() const = 0;
  // When the last complete request arrived (or the connection was accepted).
  virtual Clock::time_point last_request() const = 0;
  // The peer's "address:port", for the log.
  virtual const std::string& peer() const = 0;
};

class ConnectionManager {
 public:
  ConnectionManager() = default;
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  // Keeps `connection` and starts it; after ShutdownAll(), shuts it down at once too (accepted
  // before the stop, it is served as the others are).
  void Add(std::shared_ptr<ManagedConnection> connection);
  // Makes room for a new connection (over the limit named by `limit`: max_connections, or the
  // open-file limit) by closing an evictable connection of this thread, an Unproven() one
  // first, else the one whose last request is oldest; logs that it closed it for `newcomer`
  // (its peer, if known). Returns false, closing nothing, if none is evictable (or after
  // ShutdownAll()).
  bool EvictOne(const std::string& newcomer, std::string_view limit = "max_connections");
  // Forgets `connection` (it has closed); it is destroyed when its last handler has run.
  void Remove(ManagedConnection* connection);
  // Asks every connection to finish the requests it has received and close, by `by` at the
  // latest.
  void ShutdownAll(ManagedConnection::Clock::time_point by);
  // Has every connection look its caller up again (ManagedConnection::Revalidate()).
  void RevalidateAll();
  // Returns the number of connections kept.
  size_t size() const { return connections_.size(); }

 private:
  // Returns a copy of the connections: closing one calls Remove(), so loops run over a copy.
  std::vector<std::shared_ptr<ManagedConnection>> All() const;

  absl::flat_hash_map<ManagedConnection*, std::shared_ptr<ManagedConnection>> connections_;
  bool shutting_down_ = false;
  ManagedConnection::Clock::time_point drain_by_;  // ShutdownAll()'s deadline
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CONNECTION_MANAGER_H_
