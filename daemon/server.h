// Server is the daemon's network side: it listens (plain TCP on `listen`, TLS on `tls_listen`,
// either or both, and HTTP on `http_listen`: daemon/http_connection.h), accepts connections and
// spreads them round-robin over its I/O threads, each running its own io_context, and handles the
// signals: SIGHUP and the RELOAD request reload the same way (Reload()), SIGTERM and SIGINT stop
// it gracefully (stop accepting, /readyz answers 503 "stopping", answer the requests received,
// write their responses, close every connection within drain_seconds, return from Run()), or
// during the first load (RunFirstLoad()) at once. It serves from Start() on, during the first
// load too, with no list then: PING and HELLO answer generation 0, every other operation
// UNAVAILABLE, /healthz 200, /readyz and the JSON API 503 (FORMAT.md 8.1). A client over
// max_connections_per_ip is closed at once, before it is read from; a client over
// max_connections gets the place of the oldest idle connection, or is closed at once if none is
// idle. Neither counts against the limits once closed. HTTP connections share the I/O threads,
// limits, buffer budget, deadlines and shutdown.
//
// Thread safety: construct, Listen(), Start(), RunFirstLoad() and Run() on the main thread;
// Reload() and RequestStop() from any thread.
#ifndef SHIXIN_DAEMON_SERVER_H_
#define SHIXIN_DAEMON_SERVER_H_

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "daemon/audit_batch.h"
#include "daemon/buffer_budget.h"
#include "daemon/config.h"
#include "daemon/config_watch.h"
#include "daemon/connection.h"
#include "daemon/connection_limits.h"
#include "daemon/connection_manager.h"
#include "daemon/handler.h"
#include "daemon/http_connection.h"
#include "daemon/http_service.h"
#include "daemon/json_api.h"
#include "daemon/metrics.h"
#include "daemon/reloader.h"
#include "daemon/snapshot_holder.h"
#include "daemon/stale_watch.h"
#include "daemon/uring_loop.h"
#include "daemon/watchdog.h"

namespace shixin {

class Server final : public ReloadTarget {
 public:
  // Installs the signal handlers at once, so a signal that arrives before RunFirstLoad() or
  // Run() is handled when it starts. `holder`, `reloader`, `access` (the callers), `auditor` (the
  // audit; null: none) and `checkpointer` (for /metrics; null: none) must outlive the Server.
  // REQUIRES: Validate(config) is OK.
  Server(const Config& config, SnapshotHolder* holder, Reloader* reloader, Access* access,
         Auditor* auditor = nullptr, const Checkpointer* checkpointer = nullptr);
  // Stops the I/O threads still running (an error before Run()) at once, and joins them.
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound addresses ("127.0.0.1:7411", "[::1]:7411"; the real port when the configured
  // one is 0); empty for a listener not configured.
  struct Bound {
    std::string plain;
    std::string tls;
    std::string http;
  };
  // Makes reloads name an edit of the configuration file (ConfigWatch::Note()).
  // REQUIRES: before Listen().
  void WatchConfigFile(ConfigWatch watch) { config_watch_ = std::move(watch); }
  // Builds the TLS context (if tls_listen is set), binds and listens on config.listen,
  // config.tls_listen and config.http_listen; connections are accepted from Start() on (the
  // kernel queues them meanwhile). Returns the bound addresses, Unavailable naming the address and
  // the system's reason, or the TLS context's error (tls_context.h).
  absl::StatusOr<Bound> Listen();

  // Starts the I/O threads and the metrics sampler, and accepts on the listeners: connections are
  // served from now on, with whatever list `holder` holds (none before the first load). Returns
  // the error of StartThread() (base/thread.h) if the system cannot create a thread (the unit's
  // TasksMax below `threads`); the destructor joins those started. REQUIRES: Listen() succeeded.
  absl::Status Start();

  // Runs `load` (the first load) on a thread of its own while this thread accepts connections
  // and handles the signals: SIGHUP as Run() does (its list reload waits for the reload thread),
  // SIGTERM or SIGINT by giving up the wait. Returns `load`'s status; Cancelled "SIGTERM during
  // the load" (or SIGINT) if a stop signal came first: the load thread then runs on, detached, and
  // the caller must end the process without destroying what `load` uses (std::_Exit); or the
  // error of StartThread() (base/thread.h). On any error the listeners are closed, the I/O
  // threads (their connections dropped) and the sampler ended: nothing but the load thread still
  // runs. REQUIRES: Start() succeeded.
  absl::Status RunFirstLoad(absl::AnyInvocable<absl::Status() &&> load);

  // The one reload of SIGHUP and RELOAD, in this order: rebuilds the TLS context from its files
  // for the connections accepted later (the open ones keep theirs; a context that fails to build
  // is logged and the old one kept), reads the callers file again (connections of revoked
  // callers, tokens or certificates close; a file that cannot be used is logged and the old
  // callers kept), reads the holiday calendar again if there is an audit (a directory that
  // cannot be loaded is logged and the old calendar kept), then asks the Reloader for the list.
  // `done` (may be empty) receives the list's result, its message followed by what was read of the
  // files ("; callers file read again (3 callers); holiday calendar read again"); Aborted if a file
  // could not be used, the list reloaded or not, so that `shixin reload` (systemctl reload) fails.
  // Returns false, dropping `done`, if the daemon is stopping. The files are read on the calling
  // thread (an I/O thread for RELOAD: milliseconds).
  bool Reload(ReloadRequest request, Reloader::Done done) override;

  // The routes of the HTTP listener: set its slots before Run().
  HttpService& http_service() { return http_service_; }

  // Serves until SIGTERM, SIGINT or RequestStop(), then shuts down gracefully and returns.
  // Under systemd's WatchdogSec= it sends WATCHDOG=1 while this thread's and every I/O thread's
  // loop run (daemon/watchdog.h), until the shutdown begins. REQUIRES: RunFirstLoad() returned
  // OK.
  void Run();

  // Begins the graceful shutdown, as SIGTERM does.
  void RequestStop();

  // Returns the metrics every request is recorded in (for GET /metrics and GET /status).
  const Metrics& metrics() const { return metrics_; }

 private:
  struct IoThread {
    boost::asio::io_context context{1};
    boost::asio::any_io_executor work;  // keeps `context` running until shutdown
    ConnectionManager manager;
    AuditBatch audit_batch{context.get_executor()};
    // Plain connections' reads and writes; null: the reactor's. Destroyed first: what it may
    // still hold (a stopped context's connections) refers to the members above.
    std::unique_ptr<UringLoop> uring;
    std::thread thread;
  };

  // A listening socket: the binary protocol over plain TCP or TLS, or HTTP.
  enum class Kind { kPlain, kTls, kHttp };
  struct Listener {
    Listener(boost::asio::io_context& context, Kind listener_kind)
        : acceptor(context), retry(context), kind(listener_kind) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer retry;  // accepting again after running out of descriptors
    const Kind kind;
  };

  // Gives each I/O thread a UringLoop, or none if the kernel refuses one of them.
  void StartUring();
  // Returns a connection for `socket` accepted by `listener`, managed by `io`.
  std::shared_ptr<ManagedConnection> MakeConnection(const Listener& listener,
                                                    boost::asio::ip::tcp::socket socket,
                                                    const boost::asio::ip::tcp::endpoint& remote,
                                                    IoThread* io);
  // Opens `listener` on `address` (a listen key's value, named `key`); returns the bound address.
  absl::StatusOr<std::string> Open(Listener& listener, std::string_view key,
                                   const std::string& address);
  void Accept(Listener& listener);
  void OnAccept(Listener& listener, const boost::system::error_code& ec,
                boost::asio::ip::tcp::socket socket, IoThread* io);
  // Accepts again on `listener` after kAcceptRetry (a resource ran short), unless stopping.
  void AcceptLater(Listener& listener);
  // At the open-file limit (accept: EMFILE, ENFILE): closes an idle connection of I/O thread
  // `step` (else of the next ones), asked on its thread, then accepts again on the main thread;
  // with none idle, accepts again after kAcceptRetry (the client waits in the backlog).
  void FreeDescriptorThenAccept(Listener& listener, size_t step);
  // Admits `connection` (over max_connections; from `peer`) of I/O thread `owner` in place of an
  // idle connection of thread owner + `step` (modulo the threads), asked on that thread; if it
  // has none, of the next thread, and so on; after all of them, closes `connection` and counts
  // it refused. Runs on any thread: posts each step to the thread concerned.
  void AdmitByEvicting(std::shared_ptr<ManagedConnection> connection, std::string peer,
                       size_t owner, size_t step);
  // Every second: gives freed buffer memory back to the system once the buffers in use have
  // shrunk by more than kTrimStep since their last high (after abusive clients have left).
  void TrimMemoryLater();
  // Now and every second (with a max_age_seconds): logs the serving list's crossings of
  // max_age_seconds (StaleWatch), at start too.
  void WatchFreshness();
  void WaitForSignal();
  // Handles SIGHUP: Reload().
  void OnSighup();
  // Rebuilds the TLS context from the configured files; returns its error, and keeps the old
  // context then. Does nothing without tls_listen. REQUIRES: files_mu_ held.
  absl::Status ReloadTlsLocked();
  // Reads the files of Reload() again, logging each outcome as `origin`'s and counting it in the
  // metrics; appends to `*summary` what was read. Returns false if a file could not be used.
  bool ReloadFiles(std::string_view origin, std::string* summary);
  // ReloadFiles()'s callers file: on success, the connections are revalidated.
  // REQUIRES: files_mu_ held, callers mode.
  bool ReloadCallersLocked(std::string_view origin, std::string* summary);
  // ReloadFiles()'s holiday calendar (Auditor::ReloadCalendar()). REQUIRES: files_mu_ held, an
  // auditor.
  bool ReloadCalendarLocked(std::string_view origin, std::string* summary);
  // Returns the TLS context for a new connection.
  std::shared_ptr<boost::asio::ssl::context> TlsContext();
  // Waits for a signal while the first load runs: sets `*stop_signal` and stops main_context_
  // on SIGTERM or SIGINT.
  void WaitForStopWhileLoading(int* stop_signal);
  // Ends serving at once, before Run(): closes the listeners, stops the I/O threads (their
  // connections dropped unanswered) and joins them, and stops the sampler.
  void Halt();
  void BeginShutdown(std::string_view why);

  const Config config_;
  SnapshotHolder* const holder_;  // read, and written by a reload whose files failed
  Reloader* const reloader_;
  Access* const access_;
  Auditor* const auditor_;  // null: no audit, so no calendar
  Metrics metrics_;         // before handler_, which records in it; reads limits_ only when scraped
  const Handler handler_;
  const Connection::Options connection_options_;
  BufferBudget budget_;
  ConnectionLimits limits_;
  const Connection::Shared shared_;
  const JsonApi json_api_;  // POST /v1/check, ... over handler_
  HttpService http_service_;
  const HttpConnection::Shared http_shared_;
  boost::asio::io_context main_context_{1};
  boost::asio::signal_set signals_;
  Listener plain_;
  Listener tls_;
  Listener http_;
  // Serialises Reload()s (SIGHUP on the main thread, RELOADs on I/O threads).
  ConfigWatch config_watch_;  // set before the threads start, then read only
  std::mutex files_mu_;
  // For new TLS connections; guarded by files_mu_.
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::atomic<int64_t> tls_not_after_{0};  // its certificate's expiry, for the metrics
  boost::asio::steady_timer trim_timer_;
  uint64_t buffered_high_ = 0;  // the buffers' high since the last trim
  boost::asio::steady_timer freshness_timer_;
  StaleWatch stale_watch_;
  // With systemd's WatchdogSec=: beats while the main and I/O loops run (from Run() on).
  std::unique_ptr<Watchdog> watchdog_;
  std::vector<std::unique_ptr<IoThread>> io_threads_;
  size_t next_io_thread_ = 0;
  bool stopping_ = false;
};

}  // namespace shixin

#endif  // SHIXIN_DAEMON_SERVER_H_
