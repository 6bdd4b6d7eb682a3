#include "daemon/server.h"

#include <algorithm>
#include <array>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/allocator.h"
#include "base/status_macros.h"
#include "base/thread.h"
#include "daemon/file_modes.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/status_page.h"
#include "daemon/tls_context.h"
#include "daemon/transport.h"
#include "daemon/uring_transport.h"

namespace shixin {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Buffers freed beyond this are given back to the system (TrimMemoryLater()).
constexpr uint64_t kTrimStep = 16 << 20;
// How long accepting pauses after running out of file descriptors or memory.
constexpr std::chrono::milliseconds kAcceptRetry{100};

Connection::Options ConnectionOptions(const Config& config) {
  Connection::Options o;
  o.max_payload = config.max_payload;
  o.max_in_flight = config.max_in_flight;
  o.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  o.frame_timeout = std::chrono::seconds(config.frame_timeout_seconds);
  o.write_timeout = std::chrono::seconds(config.write_timeout_seconds);
  o.admin_loopback_only = config.admin_loopback_only;
  return o;
}

// The files Server::Reload() reads again in this daemon, for their metrics.
std::array<bool, kReloadedFiles> ReloadedFiles(const Config& config, const Access* access,
                                               const Auditor* auditor) {
  std::array<bool, kReloadedFiles> files{};
  files[static_cast<size_t>(ReloadedFile::kTls)] = !config.tls_listen.empty();
  files[static_cast<size_t>(ReloadedFile::kCallers)] = access != nullptr && !access->open();
  files[static_cast<size_t>(ReloadedFile::kCalendar)] = auditor != nullptr;
  return files;
}

bool IsDescriptorShortage(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE;
}

bool IsResourceError(const error_code& ec) {
  return IsDescriptorShortage(ec) || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

}  // namespace

Server::Server(const Config& config, SnapshotHolder* holder, Reloader* reloader, Access* access,
               Auditor* auditor, const Checkpointer* checkpointer)
    : config_(config),
      holder_(holder),
      reloader_(reloader),
      access_(access),
      auditor_(auditor),
      metrics_(MetricsSources{holder, reloader, access, &limits_, auditor, checkpointer,
                              config.max_age_seconds, &tls_not_after_,
                              ReloadedFiles(config, access, auditor)}),
      handler_(config, holder, NowSeconds, reloader, access, auditor, &metrics_),
      connection_options_(ConnectionOptions(config)),
      budget_(config.max_buffered_bytes, config.max_connections),
      limits_(config.max_connections, config.max_connections_per_ip),
      shared_{&handler_, this, &budget_, &limits_, access},
      json_api_(&handler_, access),
      http_service_(&handler_, holder),
      http_shared_{&http_service_, &budget_, &limits_, access != nullptr && !access->open(),
                   access},
      signals_(main_context_, SIGINT, SIGTERM, SIGHUP),
      plain_(main_context_, Kind::kPlain),
      tls_(main_context_, Kind::kTls),
      http_(main_context_, Kind::kHttp),
      trim_timer_(main_context_),
      freshness_timer_(main_context_),
      stale_watch_(config.max_age_seconds, config.refuse_stale) {
  const unsigned threads = IoThreads(config);
  for (unsigned i = 0; i < threads; ++i) io_threads_.push_back(std::make_unique<IoThread>());
  if (config.io_uring) StartUring();
  http_service_.metrics = [this](const HttpRequest& r) { return ServeMetrics(metrics_, r); };
  http_service_.status = [this](const HttpRequest& r) {
    return ServeStatus(metrics_, config_.max_age_seconds, r);
  };
  http_service_.api = [this](const HttpRequest& r) { return json_api_.Serve(r); };
}

Server::~Server() {
  // Run() ends them after their connections; on an error before it, connections may be open.
  for (auto& io : io_threads_) {
    io->work = asio::any_io_executor();
    io->context.stop();
    if (io->thread.joinable()) io->thread.join();
  }
}

void Server::StartUring() {
  for (auto& io : io_threads_) {
    absl::StatusOr<std::unique_ptr<UringLoop>> loop = UringLoop::Create(io->context);
    if (!loop.ok()) {
      LogWarning("io_uring unavailable, plain connections use epoll: %s",
                 std::string(loop.status().message()));
      for (auto& other : io_threads_) other->uring.reset();
      return;
    }
    io->uring = *std::move(loop);
  }
}

absl::StatusOr<Server::Bound> Server::Listen() {
  Bound bound;
  if (!config_.tls_listen.empty()) {
    {
      std::lock_guard<std::mutex> lock(files_mu_);
      SHIXIN_RETURN_IF_ERROR(ReloadTlsLocked());
    }
    SHIXIN_ASSIGN_OR_RETURN(bound.tls, Open(tls_, "tls_listen", config_.tls_listen));
  }
  if (!config_.listen.empty()) {
    SHIXIN_ASSIGN_OR_RETURN(bound.plain, Open(plain_, "listen", config_.listen));
  }
  if (!config_.http_listen.empty()) {
    SHIXIN_ASSIGN_OR_RETURN(bound.http, Open(http_, "http_listen", config_.http_listen));
  }
  return bound;
}

absl::Status Server::ReloadTlsLocked() {
  if (config_.tls_listen.empty()) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> context =
      MakeServerTlsContext(TlsFiles{config_.tls_cert, config_.tls_key, config_.tls_client_ca});
  if (!context.ok()) return context.status();
  // A certificate that expired is still served (the operator may be renewing it), but said.
  if (absl::StatusOr<CertificateValidity> validity = ServerCertificateValidity(**context);
      validity.ok()) {
    tls_not_after_.store(validity->not_after, std::memory_order_relaxed);
    const int64_t now = NowSeconds();
    const std::string warning = CertificateValidityWarning(config_.tls_cert, *validity, now);
    const bool refused = now >= validity->not_after || now < validity->not_before;
    if (refused) {
      LogError("%s", warning);
    } else if (!warning.empty()) {
      LogWarning("%s", warning);  // renewal due
    }
  }
  tls_context_ = *std::move(context);
  return absl::OkStatus();
}

std::shared_ptr<asio::ssl::context> Server::TlsContext() {
  std::lock_guard<std::mutex> lock(files_mu_);
  return tls_context_;
}

bool Server::ReloadFiles(std::string_view origin, std::string* summary) {
  std::lock_guard<std::mutex> lock(files_mu_);
  // The files read again here: said again, as at start, until they are fixed.
  if (const std::string loose = LooseFileModesWarning(config_); !loose.empty()) {
    LogWarning("%s: %s", origin, loose);
  }
  if (const std::string edited = config_watch_.Note(); !edited.empty()) {
    LogWarning("%s: %s", origin, edited);
    absl::StrAppend(summary, "; ", edited);
  }
  bool ok = true;
  if (!config_.tls_listen.empty()) {
    const absl::Status s = ReloadTlsLocked();
    metrics_.RecordFileReload(ReloadedFile::kTls, s.ok(), NowSeconds());
    if (!s.ok()) {
      LogError("%s: the TLS certificate was not reloaded, the old one serves on: %s", origin,
               std::string(s.message()));
      *summary += absl::StrFormat("; TLS files NOT read again, the old certificate serves: %s",
                                  s.message());
      ok = false;
    } else {
      LogInfo("%s: TLS certificate reloaded for new connections", origin);
      *summary += "; TLS files read again";
    }
  }
  if (!access_->open()) ok = ReloadCallersLocked(origin, summary) && ok;
  if (auditor_ != nullptr) ok = ReloadCalendarLocked(origin, summary) && ok;
  return ok;
}

bool Server::ReloadCalendarLocked(std::string_view origin, std::string* summary) {
  const absl::Status s = auditor_->ReloadCalendar();
  metrics_.RecordFileReload(ReloadedFile::kCalendar, s.ok(), NowSeconds());
  if (!s.ok()) {
    LogError("%s: the holiday calendar was not reloaded, the old one serves on: %s", origin,
             std::string(s.message()));
    *summary +=
        absl::StrFormat("; holiday calendar NOT read again, the old one serves: %s", s.message());
    return false;
  }
  LogInfo("%s: holiday calendar reloaded", origin);
  *summary += "; holiday calendar read again";
  return true;
}

bool Server::ReloadCallersLocked(std::string_view origin, std::string* summary) {
  const absl::Status s = access_->Reload();
  metrics_.RecordFileReload(ReloadedFile::kCallers, s.ok(), NowSeconds());
  if (!s.ok()) {
    LogError("%s: the callers file was not reloaded, the old callers keep working: %s", origin,
             std::string(s.message()));
    *summary += absl::StrFormat("; callers file NOT read again, the old callers keep working: %s",
                                s.message());
    return false;
  }
  const size_t callers = access_->Counts().size();
  LogInfo("%s: callers reloaded (%d callers)", origin, callers);
  *summary += absl::StrFormat("; callers file read again (%d callers)", callers);
  // Said on every reload until the tokens are replaced, as at start.
  if (const std::string published = access_->PublishedTokenWarning(); !published.empty()) {
    LogWarning("%s: %s", origin, published);
    absl::StrAppend(summary, "; ", published);
  }
  // Connections whose caller, token or certificate is gone close now, idle ones included.
  for (auto& io : io_threads_) {
    IoThread* raw = io.get();
    asio::post(raw->context, [raw] { raw->manager.RevalidateAll(); });
  }
  return true;
}

bool Server::Reload(ReloadRequest request, Reloader::Done done) {
  std::string files;
  const bool files_ok = ReloadFiles(request.origin, &files);
  if (done || !files_ok) {
    done = [this, files = std::move(files), files_ok,
            done = std::move(done)](const ReloadResult& list) mutable {
      ReloadResult result = list;
      result.message += files;
      if (!result.status.ok() || !files_ok) {
        result.status = absl::Status(
            result.status.ok() ? absl::StatusCode::kAborted : result.status.code(), result.message);
      }
      // A file not read fails the reload in INFO and /status too, after the list's outcome
      // (a SIGHUP has no answer to say it in, and the file stays broken until the next one).
      if (!files_ok) {
        holder_->SetReloadStatus(
            ReloadStatus{wire::ReloadState::kFailed, NowSeconds(), result.message});
      }
      if (done) std::move(done)(result);
    };
  }
  return reloader_->Request(std::move(request), std::move(done));
}

absl::StatusOr<std::string> Server::Open(Listener& listener, std::string_view key,
                                         const std::string& text) {
  absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
  if (!address.ok()) return address.status();
  error_code ec;
  tcp::resolver resolver(main_context_);
  const tcp::resolver::results_type results =
      resolver.resolve(address->host, std::to_string(address->port),
                       tcp::resolver::numeric_service | tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(absl::StrFormat("%s %s: cannot resolve %s: %s", key, text,
                                                  address->host, ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  const auto fail = [&](std::string_view step) {
    return absl::UnavailableError(absl::StrFormat("%s %s: %s: %s", key, text, step, ec.message()));
  };
  tcp::acceptor& acceptor = listener.acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("socket");
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("setsockopt");
  if (acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  const tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");
  return EndpointText(local);
}

absl::Status Server::Start() {
  // The status page's history; joined when the Server goes.
  SHIXIN_RETURN_IF_ERROR(metrics_.StartSampler());
  for (auto& io : io_threads_) {
    io->work = asio::prefer(io->context.get_executor(), asio::execution::outstanding_work.tracked);
    IoThread* raw = io.get();
    absl::StatusOr<std::thread> thread = StartThread("shixind-io", [raw] {
      RcuThread rcu;  // the handler reads the published list on this thread
      raw->context.run();
    });
    if (!thread.ok()) {
      // The threads started end at once; the destructor joins them.
      for (auto& started : io_threads_) started->context.stop();
      return absl::Status(thread.status().code(),
                          absl::StrFormat("%s (threads = %d I/O threads)",
                                          thread.status().message(), io_threads_.size()));
    }
    io->thread = *std::move(thread);
  }
  // The accepts complete on this thread, in RunFirstLoad() and Run().
  for (Listener* listener : {&plain_, &tls_, &http_}) {
    if (listener->acceptor.is_open()) Accept(*listener);
  }
  return absl::OkStatus();
}

void Server::Run() {
  RcuThread rcu;  // WatchFreshness() reads the published list on this thread
  LogInfo("serving with %d I/O threads (plain connections through %s)", io_threads_.size(),
          io_threads_.front()->uring != nullptr ? "io_uring" : "epoll");
  WaitForSignal();
  TrimMemoryLater();
  WatchFreshness();
  if (const absl::Duration every = WatchdogInterval(); every > absl::ZeroDuration()) {
    std::vector<asio::io_context*> loops;
    for (auto& io : io_threads_) loops.push_back(&io->context);
    watchdog_ = std::make_unique<Watchdog>(main_context_, std::move(loops), every, NotifyWatchdog);
    watchdog_->Start();
    LogInfo("watchdog: WATCHDOG=1 every %s while the main and I/O loops run",
            absl::FormatDuration(every));
  }
  main_context_.run();
  for (auto& io : io_threads_) io->thread.join();
  LogInfo("all connections closed");
}

void Server::RequestStop() {
  asio::post(main_context_, [this] { BeginShutdown("stop requested"); });
}

void Server::Accept(Listener& listener) {
  IoThread* io = io_threads_[next_io_thread_].get();
  next_io_thread_ = (next_io_thread_ + 1) % io_threads_.size();
  listener.acceptor.async_accept(io->context,
                                 [this, &listener, io](const error_code& ec, tcp::socket socket) {
                                   OnAccept(listener, ec, std::move(socket), io);
                                 });
}

void Server::OnAccept(Listener& listener, const error_code& ec, tcp::socket socket, IoThread* io) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    LogLimited(LogKind::kAcceptError, LogLevel::kWarning, "accept: %s", ec.message());
    if (IsDescriptorShortage(ec)) {
      // As over max_connections, an idle connection gives way (x27 #13: the client waited).
      FreeDescriptorThenAccept(listener, 0);
      return;
    }
    if (IsResourceError(ec)) {
      AcceptLater(listener);
      return;
    }
    Accept(listener);
    return;
  }
  error_code endpoint_error;
  socket.set_option(tcp::no_delay(true), endpoint_error);  // answers leave as they are written
  const tcp::endpoint remote = socket.remote_endpoint(endpoint_error);
  if (endpoint_error) {  // the client has already gone
    socket.close(endpoint_error);
    Accept(listener);
    return;
  }
  const ConnectionLimits::Admission admission = limits_.Admit(remote.address());
  if (admission == ConnectionLimits::Admission::kRefusedAddress ||
      admission == ConnectionLimits::Admission::kRefusedTotal) {
    // Closed at once, unread: it holds no descriptor and no slot (FORMAT.md §1).
    if (admission == ConnectionLimits::Admission::kRefusedAddress) {
      LogLimited(LogKind::kRefusedConnection, LogLevel::kWarning,
                 "refusing %s: %d connections from its address (max_connections_per_ip)",
                 EndpointText(remote), config_.max_connections_per_ip);
    } else {
      LogLimited(LogKind::kRefusedConnection, LogLevel::kWarning,
                 "refusing %s: %d connections open (max_connections)", EndpointText(remote),
                 config_.max_connections);
    }
    socket.close(endpoint_error);
    Accept(listener);
    return;
  }
  std::shared_ptr<ManagedConnection> connection =
      MakeConnection(listener, std::move(socket), remote, io);
  if (admission == ConnectionLimits::Admission::kAdmitted) {
    asio::post(io->context, [io, connection = std::move(connection)]() mutable {
      io->manager.Add(std::move(connection));
    });
  } else {
    size_t owner = 0;
    while (io_threads_[owner].get() != io) ++owner;
    AdmitByEvicting(std::move(connection), EndpointText(remote), owner, 0);
  }
  Accept(listener);
}

void Server::AcceptLater(Listener& listener) {
  listener.retry.expires_after(kAcceptRetry);
  listener.retry.async_wait([this, &listener](const error_code& e) {
    if (!e && !stopping_) Accept(listener);
  });
}

void Server::FreeDescriptorThenAccept(Listener& listener, size_t step) {
  if (step == io_threads_.size()) {
    AcceptLater(listener);
    return;
  }
  IoThread* victim = io_threads_[step].get();
  asio::post(victim->context, [this, &listener, victim, step] {
    const bool freed = victim->manager.EvictOne("a new connection", "the open-file limit");
    asio::post(main_context_, [this, &listener, step, freed] {
      if (stopping_) return;
      if (freed) {
        Accept(listener);
      } else {
        FreeDescriptorThenAccept(listener, step + 1);
      }
    });
  });
}

void Server::AdmitByEvicting(std::shared_ptr<ManagedConnection> connection, std::string peer,
                             size_t owner, size_t step) {
  // The idle connections may sit on any I/O thread (the accepting thread takes turns), and
  // each thread's connections are its own: each is asked on its thread, the newcomer is kept
  // (or closed) on its own.
  IoThread* io = io_threads_[owner].get();
  if (step == io_threads_.size()) {
    asio::post(io->context, [this, peer = std::move(peer), connection = std::move(connection)] {
      LogLimited(LogKind::kRefusedConnection, LogLevel::kWarning,
                 "refusing %s: %d connections open, none idle (max_connections)", peer,
                 config_.max_connections);
      limits_.CountRefused();
      connection->Close();  // never kept: Remove() finds nothing
    });
    return;
  }
  IoThread* victim = io_threads_[(owner + step) % io_threads_.size()].get();
  asio::post(victim->context, [this, io, victim, owner, step, peer = std::move(peer),
                               connection = std::move(connection)]() mutable {
    if (!victim->manager.EvictOne(peer)) {
      AdmitByEvicting(std::move(connection), std::move(peer), owner, step + 1);
      return;
    }
    asio::post(io->context, [io, connection = std::move(connection)]() mutable {
      io->manager.Add(std::move(connection));
    });
  });
}

std::shared_ptr<ManagedConnection> Server::MakeConnection(const Listener& listener,
                                                          tcp::socket socket,
                                                          const tcp::endpoint& remote,
                                                          IoThread* io) {
  std::unique_ptr<Transport> transport;
  if (listener.kind == Kind::kTls) {
    transport = std::make_unique<TlsTransport>(std::move(socket), TlsContext());
  } else if (io->uring != nullptr) {
    transport = std::make_unique<UringTransport>(std::move(socket), io->uring.get());
  } else {
    transport = std::make_unique<TcpTransport>(std::move(socket));
  }
  if (listener.kind == Kind::kHttp) {
    return std::make_shared<HttpConnection>(std::move(transport), remote, connection_options_,
                                            http_shared_, &io->manager);
  }
  return std::make_shared<Connection>(std::move(transport), remote, connection_options_, shared_,
                                      &io->manager, &io->audit_batch);
}

void Server::TrimMemoryLater() {
  trim_timer_.expires_after(std::chrono::seconds(1));
  trim_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    FlushSuppressedLogLines();  // a flood's count, once it is over
    const uint64_t used = budget_.used();
    if (buffered_high_ > used + kTrimStep) {
      ReleaseFreeMemory();
      buffered_high_ = used;
    }
    buffered_high_ = std::max(buffered_high_, used);
    TrimMemoryLater();
  });
}

void Server::WatchFreshness() {
  if (config_.max_age_seconds == 0) return;
  int64_t source_time = 0;
  uint32_t generation = 0;
  {
    SnapshotHolder::ReadSection read(*holder_);
    const Dataset* d = read.dataset();
    if (d == nullptr) return;  // not in a serving daemon: Run() follows the first load
    source_time = d->source_time;
    generation = d->generation;
  }
  stale_watch_.Observe(NowSeconds(), source_time, generation);
  freshness_timer_.expires_after(std::chrono::seconds(1));
  freshness_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    WatchFreshness();
  });
}

absl::Status Server::RunFirstLoad(absl::AnyInvocable<absl::Status() &&> load) {
  // Shared with the load thread, which outlives this call if a stop signal comes first.
  struct Shared {
    absl::AnyInvocable<absl::Status() &&> load;
    absl::Status status;
    bool done = false;  // read and written on this thread only (posted)
  };
  auto shared = std::make_shared<Shared>();
  shared->load = std::move(load);
  absl::StatusOr<std::thread> loader = StartThread("shixind-load", [this, shared] {
    shared->status = std::move(shared->load)();
    asio::post(main_context_, [this, shared] {
      shared->done = true;
      main_context_.stop();
    });
  });
  if (!loader.ok()) {
    Halt();
    return loader.status();
  }
  int stop_signal = 0;
  WaitForStopWhileLoading(&stop_signal);
  main_context_.run();  // accepts too
  signals_.cancel();    // the signals that come now stay queued for Run()
  main_context_.restart();
  if (!shared->done) {
    loader->detach();
    Halt();
    return absl::CancelledError(
        absl::StrFormat("%s during the load", stop_signal == SIGINT ? "SIGINT" : "SIGTERM"));
  }
  loader->join();
  if (!shared->status.ok()) Halt();
  return shared->status;
}

void Server::Halt() {
  error_code ec;
  for (Listener* listener : {&plain_, &tls_, &http_}) {
    listener->acceptor.close(ec);
    listener->retry.cancel();
  }
  // The aborted accepts complete now, while the I/O threads' contexts they accept into live: left
  // queued, ~Server would destroy them after those contexts (ASan: an invalid vptr).
  main_context_.restart();
  main_context_.poll();
  for (auto& io : io_threads_) {
    io->work = asio::any_io_executor();
    io->context.stop();
    if (io->thread.joinable()) io->thread.join();
  }
  metrics_.StopSampler();
}

void Server::WaitForStopWhileLoading(int* stop_signal) {
  signals_.async_wait([this, stop_signal](const error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      OnSighup();
      WaitForStopWhileLoading(stop_signal);
      return;
    }
    *stop_signal = signo;
    main_context_.stop();
  });
}

void Server::OnSighup() {
  if (!Reload(ReloadRequest{"SIGHUP"}, nullptr)) {
    LogWarning("SIGHUP ignored: the daemon is stopping");
  }
}

void Server::WaitForSignal() {
  signals_.async_wait([this](const error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      OnSighup();
      WaitForSignal();
      return;
    }
    BeginShutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
  });
}

void Server::BeginShutdown(std::string_view why) {
  if (stopping_) return;
  stopping_ = true;
  // Every connection closes by then, a client that does not read included.
  const ManagedConnection::Clock::time_point by =
      ManagedConnection::Clock::now() + std::chrono::seconds(config_.drain_seconds);
  http_service_.SetStopping();
  LogInfo("shutting down (%s): finishing the requests in flight, within %d s (drain_seconds)", why,
          config_.drain_seconds);
  // A RELOAD waiting for the reload running would hold its I/O thread until the reload ends:
  // answered now (the reload is abandoned, main.cc).
  reloader_->Abandon();
  NotifyStopping("stopping: finishing the requests in flight");
  error_code ec;
  for (Listener* listener : {&plain_, &tls_, &http_}) {
    listener->acceptor.close(ec);
    listener->retry.cancel();
  }
  trim_timer_.cancel();
  freshness_timer_.cancel();
  if (watchdog_ != nullptr) watchdog_->Stop();
  signals_.cancel();
  for (auto& io : io_threads_) {
    IoThread* raw = io.get();
    asio::post(raw->context, [raw, by] { raw->manager.ShutdownAll(by); });
    raw->work = asio::any_io_executor();  // the thread ends when its connections have
  }
}

}  // namespace shixin
