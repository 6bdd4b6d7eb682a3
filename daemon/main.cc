// shixind: the shixin lookup daemon. See UsageText() in config.cc, and systemd/ for the unit
// and the example configuration.
#include <pthread.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/allocator.h"
#include "base/background.h"
#include "base/thread.h"
#include "core/catalog.h"
#include "core/paths.h"
#include "daemon/access.h"
#include "daemon/auditor.h"
#include "daemon/checkpointer.h"
#include "daemon/config.h"
#include "daemon/config_watch.h"
#include "daemon/delta_watcher.h"
#include "daemon/file_modes.h"
#include "daemon/handler.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/reloader.h"
#include "daemon/server.h"
#include "daemon/snapshot_holder.h"
#include "daemon/state_dir_lock.h"

namespace shixin {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the first load, the listen or a thread's start failed
constexpr int kExitUsage = 2;    // bad flags or configuration

// Reads the configuration: the file named by --config (remembered in `*watch`), then the flags
// over it. Returns the exit status when the daemon must not start (--help, --version, an
// error), or nullopt.
std::optional<int> ReadConfig(const std::vector<std::string>& args, Config* config,
                              ConfigWatch* watch) {
  absl::StatusOr<CommandLine> cl = ApplyFlags(args, config);
  if (cl.ok() && (cl->help || cl->version)) {
    std::fputs(
        cl->help ? UsageText().c_str() : absl::StrFormat("%s\n", Handler::ServerName()).c_str(),
        stdout);
    return kExitOk;
  }
  if (cl.ok() && !cl->config_file.empty()) {
    // A list named by a flag replaces the file's, whichever kind (data_dir or snapshot) it is.
    const bool source_flag = !config->data_dir.empty() || !config->snapshot.empty();
    *config = Config();
    std::string text;
    absl::Status s = LoadConfigFile(cl->config_file, config, &text);
    if (!s.ok()) {
      // It names the file and line: --help is not where to look.
      LogError("shixind: %s", s.message());
      return kExitUsage;
    }
    if (source_flag) {
      config->data_dir.clear();
      config->snapshot.clear();
    }
    // The very bytes parsed: a file edited since, even during the start, is named by a reload.
    *watch = ConfigWatch(cl->config_file, text);
    cl = ApplyFlags(args, config);  // flags override the file
  }
  if (cl.ok() && config->catalog.empty()) config->catalog = DefaultCatalogPath();
  absl::Status s = cl.ok() ? Validate(*config) : cl.status();
  if (!s.ok()) {
    // An error like any other fatal one at start: with its priority for journald.
    LogError("shixind: %s (see shixind --help)", s.message());
    return kExitUsage;
  }
  // Absolute, so that the log and INFO say where the list is; symlinks are kept, so that a
  // reload follows a "current" link that was switched to a new directory or file.
  for (std::string* path :
       {&config->data_dir, &config->snapshot, &config->deltas_dir, &config->callers_file}) {
    if (path->empty()) continue;
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(*path, ec);
    if (!ec) *path = absolute.lexically_normal().string();
  }
  return std::nullopt;
}

// Returns the callers of config.callers_file, checked against the catalog, or open mode.
absl::StatusOr<std::unique_ptr<Access>> OpenAccess(const Config& config) {
  if (config.callers_file.empty()) {
    LogWarning(
        "OPEN DEVELOPMENT MODE: no callers_file, so every client that reaches the port may do "
        "everything; shixind listens on loopback only. Set callers_file before serving anyone.");
    return Access::OpenMode();
  }
  absl::StatusOr<Catalog> catalog = Catalog::LoadFile(config.catalog);
  if (!catalog.ok()) return catalog.status();
  absl::StatusOr<std::unique_ptr<Access>> access =
      Access::FromFile(config.callers_file, *std::move(catalog), NonLoopbackListener(config));
  if (access.ok() && !(*access)->PublishedTokenWarning().empty()) {
    LogWarning("%s", (*access)->PublishedTokenWarning());
  }
  if (access.ok() && (*access)->Counts().empty()) {
    LogWarning(
        "callers: %s names no caller: every request is refused (UNAUTHENTICATED) until "
        "one is added (shixin caller add) and shixind reloads (SIGHUP)",
        config.callers_file);
  } else if (access.ok()) {
    LogInfo("callers: %d from %s", (*access)->Counts().size(), config.callers_file);
  }
  return access;
}

// Says so once at start if background threads cannot lower their priority (a seccomp filter
// denying setpriority, e.g. systemd's ~@resources): reloads would then compete with queries.
void WarnIfBackgroundNiceFails() {
  if (BackgroundNice() == 0) return;
  int error = 0;
  absl::StatusOr<std::thread> probe =
      StartThread("shixind-nice", [&error] { error = RunInBackground() ? 0 : errno; });
  if (!probe.ok()) return;  // the threads that follow will say so
  probe->join();
  if (error != 0) {
    LogWarning(
        "background_nice %d cannot be applied (setpriority: %s): reloads, delta helpers "
        "and the checkpoint compete with the queries for the cores; allow setpriority",
        BackgroundNice(), std::strerror(error));
  }
}

// Raises the open-file soft limit to the hard one (systemd's LimitNOFILE sets both; a shell's
// soft limit is often 1024) and says so if max_connections does not fit it: at the limit
// accept() fails (a new client takes an idle one's place, or waits) and so may the opening of
// the daemon's own files.
void RaiseFileLimit(const Config& config) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  constexpr uint64_t kOwnFiles = 64;  // the list's files, the audit, listeners, watches
  if (limit.rlim_cur != RLIM_INFINITY && config.max_connections + kOwnFiles > limit.rlim_cur) {
    LogWarning(
        "max_connections %d does not fit the open-file limit %d (LimitNOFILE, ulimit -n) with "
        "the %d files shixind keeps for itself: beyond about %d connections a new client takes "
        "an idle connection's place (or waits, none idle) and a reload or the audit may find no "
        "descriptor for its files; raise the limit or lower max_connections",
        config.max_connections, static_cast<uint64_t>(limit.rlim_cur), kOwnFiles,
        static_cast<uint64_t>(limit.rlim_cur) > kOwnFiles ? limit.rlim_cur - kOwnFiles : 0);
  }
}

// The signals the Server handles (SIGHUP reloads, SIGTERM and SIGINT stop). Blocked from the top
// of main() until the Server has installed its handlers: their default action would kill the
// daemon silently while it starts (x25 finding 3: a SIGHUP during the audit's recovery, exit
// 129). Pending meanwhile, they are handled once the Server is there: a SIGHUP (however many)
// becomes one reload after the first load, a SIGTERM stops it before serving.
sigset_t ServerSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signo : {SIGHUP, SIGINT, SIGTERM}) sigaddset(&set, signo);
  return set;
}

// Ends the process without waiting for the load that a thread runs (it cannot be interrupted:
// the threads are not joined, the objects they use not destroyed). A load writes nothing, so
// nothing is lost; the audit is closed first (no I/O thread records any more).
[[noreturn]] void ExitLeavingTheLoad(std::unique_ptr<Auditor>* auditor) {
  auditor->reset();
  std::fflush(stdout);
  std::_Exit(kExitOk);
}

int Main(const std::vector<std::string>& args) {
  std::signal(SIGPIPE, SIG_IGN);
  Config config;
  ConfigWatch config_watch;
  if (std::optional<int> exit = ReadConfig(args, &config, &config_watch)) return *exit;
  SetLogVerbose(config.verbose);
  // Before anything secret is read: the TLS key, the callers, the list.
  if (absl::Status s = ApplyCoreDumps(config); !s.ok()) {
    LogWarning("%s: a crash may write a core file holding the TLS key and the list",
               std::string(s.message()));
  }
  SetBackgroundNice(static_cast<int>(config.background_nice));
  WarnIfBackgroundNiceFails();
  RaiseFileLimit(config);
  LogInfo("%s starting: %s %s, catalog %s, listen %s", Handler::ServerName(),
          config.snapshot.empty() ? "data" : "snapshot",
          config.snapshot.empty() ? config.data_dir : config.snapshot, config.catalog,
          config.listen.empty() ? std::string("(none)") : config.listen);

  SnapshotHolder holder;
  // The deltas applied are kept in state_dir, so that a restart need not replay them all.
  const std::string checkpoint = config.state_dir.empty() || config.deltas_dir.empty()
                                     ? std::string()
                                     : config.state_dir + "/overlay.checkpoint";
  Reloader reloader(
      DatasetSource{config.data_dir, config.catalog, config.max_errors, config.snapshot, 0,
                    config.deltas_dir, uint64_t{config.max_delta_mb} << 20, checkpoint,
                    absl::Milliseconds(config.delta_settle_ms)},
      &holder, config.max_shrink);
  absl::StatusOr<std::unique_ptr<Access>> access = OpenAccess(config);
  if (!access.ok()) {
    LogError("%s, not serving", std::string(access.status().message()));
    return kExitUsage;
  }
  // Held until the daemon ends: the audit and the checkpoint in state_dir are this daemon's.
  std::optional<StateDirLock> state_lock;
  std::unique_ptr<Auditor> auditor;
  if (!config.state_dir.empty()) {
    absl::StatusOr<StateDirLock> locked = StateDirLock::Acquire(config.state_dir);
    if (absl::IsFailedPrecondition(locked.status())) {  // another daemon's
      LogError("%s; not serving", std::string(locked.status().message()));
      return kExitFailure;
    }
    if (!locked.ok()) {  // cannot be created or opened: the configuration's to fix
      LogError("shixind: state_dir \"%s\": %s; not serving", config.state_dir,
               std::string(locked.status().message()));
      return kExitUsage;
    }
    state_lock.emplace(*std::move(locked));
    // Ours to remove now that we hold the lock: a kill during a checkpoint write leaves one.
    const StaleTemporaries stale = RemoveStaleTemporaries(config.state_dir + "/overlay.checkpoint");
    if (stale.files > 0) {
      LogWarning(
          "removed %d temporary overlay checkpoint files left by writes cut short (the daemon "
          "killed during one), %d bytes freed: %s",
          stale.files, stale.bytes, absl::StrJoin(stale.names, ", "));
    }
    if (!stale.error.empty()) {
      LogWarning("cannot remove a temporary overlay checkpoint file: %s", stale.error);
    }
    // Restored or copied audit files open to others (finding 6): closed as the directory is.
    if (const std::string tightened = TightenStateDirModes(config.state_dir); !tightened.empty()) {
      LogWarning("%s", tightened);
    }
    // A full disk or a file-size limit must fail the write (EFBIG), not kill the daemon.
    std::signal(SIGXFSZ, SIG_IGN);
    audit::AuditLog::Recovery recovery;
    absl::StatusOr<std::unique_ptr<Auditor>> opened = Auditor::Open(config, &recovery);
    if (!opened.ok()) {
      LogError("the audit in %s/audit: %s; not serving", config.state_dir,
               std::string(opened.status().message()));
      return kExitFailure;
    }
    auditor = *std::move(opened);
    if (recovery.torn) LogWarning("the audit's last record was torn: %s", recovery.message);
    LogInfo("audit: %s/audit, %d segments; MEASURES %s while it cannot be written",
            config.state_dir, recovery.segments,
            config.audit_required ? "fails closed" : "answers without receipts");
  } else {
    LogWarning("no state_dir: queries are not audited and answers carry no receipts");
  }
  // Not fatal (the operator may be fixing them), but said: sshd's StrictModes as a warning.
  if (const std::string loose = LooseFileModesWarning(config); !loose.empty()) {
    LogWarning("%s", loose);
  }
  std::unique_ptr<Checkpointer> checkpointer;
  if (!checkpoint.empty() && config.checkpoint_seconds > 0) {
    checkpointer = std::make_unique<Checkpointer>(checkpoint, &holder,
                                                  absl::Seconds(config.checkpoint_seconds));
  }
  Server server(config, &holder, &reloader, access->get(), auditor.get(), checkpointer.get());
  // Its handlers are installed: the signals that came while starting are delivered now. The
  // threads started before keep them blocked, so this one takes them.
  const sigset_t signals = ServerSignals();
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  server.WatchConfigFile(std::move(config_watch));
  // Bound before the load, which takes a minute at national scale: a port in use fails the start
  // at once, and clients get answers meanwhile (FORMAT.md 8.1: generation 0, UNAVAILABLE).
  absl::StatusOr<Server::Bound> bound = server.Listen();
  if (!bound.ok()) {
    LogError("%s, not serving", std::string(bound.status().message()));
    return kExitFailure;
  }
  // Watching starts before the first load replays the delta files, so that no file lands
  // unnoticed in between; the requests it makes wait for the reload thread.
  DeltaWatcher watcher(
      config.deltas_dir,
      [&reloader](const std::string& name) {
        reloader.Request(ReloadRequest{"delta " + name, false, /*deltas_only=*/true}, nullptr);
      },
      DeltaWatcher::Options{.rescan = absl::Milliseconds(config.deltas_rescan_ms),
                            .settle = reloader.delta_settle()});
  if (!config.deltas_dir.empty()) {
    if (absl::Status s = watcher.Start(); !s.ok()) {
      LogError("%s, not serving", std::string(s.message()));
      return kExitFailure;
    }
    reloader.SetReloadHook([&watcher] { watcher.Rewatch(); });
  }
  // The I/O threads answer during the load. Every thread starts before the daemon says it
  // listens: one the system cannot create (the unit's TasksMax) fails the start.
  if (absl::Status started = server.Start(); !started.ok()) {
    LogError("%s, not serving", std::string(started.message()));
    return kExitFailure;
  }
  // Said in the log only: "listening on" (stdout) and READY=1 mean that a list serves.
  for (const std::string* address : {&bound->plain, &bound->tls, &bound->http}) {
    if (address->empty()) continue;
    LogInfo(
        "accepting on %s%s while the list loads: PING and HELLO answer generation 0, the rest "
        "UNAVAILABLE (HTTP: /readyz and /v1/ 503)",
        *address, address == &bound->tls ? " (TLS)" : (address == &bound->http ? " (HTTP)" : ""));
  }
  NotifyStatus("loading the list");
  // SIGTERM during the load (a minute at national scale) stops the daemon at once, unannounced.
  if (absl::Status s = server.RunFirstLoad([&reloader] { return reloader.LoadFirst(); });
      absl::IsCancelled(s)) {
    LogInfo("stopped before serving (%s)", std::string(s.message()));
    NotifyStopping("stopped before serving");
    ExitLeavingTheLoad(&auditor);
  } else if (!s.ok()) {
    LogError("the first load failed, not serving: %s", std::string(s.message()));
    return kExitFailure;
  }
  absl::Status started = absl::OkStatus();
  if (checkpointer != nullptr) {
    checkpointer->Holds(reloader.resumed().base_version, reloader.resumed().sequence);
    started = checkpointer->Start();
  }
  if (started.ok()) started = reloader.Start();
  if (!started.ok()) {
    LogError("%s, not serving", std::string(started.message()));
    return kExitFailure;
  }
  // One line per listener, the plain one first: a list serves.
  for (const std::string* address : {&bound->plain, &bound->tls}) {
    if (address->empty()) continue;
    std::printf("listening on %s\n", address->c_str());
    LogInfo("listening on %s%s", *address, address == &bound->tls ? " (TLS)" : "");
  }
  if (!bound->http.empty()) {
    std::printf("http listening on %s\n", bound->http.c_str());
    LogInfo("listening on %s (HTTP)", bound->http);
  }
  std::fflush(stdout);
  NotifyReady(absl::StrFormat("serving generation %d on %s", holder.generation(),
                              bound->plain.empty() ? bound->tls + " (TLS)" : bound->plain));
  server.Run();
  watcher.Stop();
  if (reloader.busy()) {
    // A reload takes minutes at background priority: stopping does not wait for it. What it
    // loaded is dropped; the checkpoint is of the generation that served.
    LogInfo("the reload in progress is abandoned");
    if (checkpointer != nullptr) checkpointer->Stop();
    LogInfo("stopped");
    ExitLeavingTheLoad(&auditor);
  }
  reloader.Stop();
  if (checkpointer != nullptr) checkpointer->Stop();  // writes what the file lacks
  LogInfo("stopped");
  return kExitOk;
}

}  // namespace
}  // namespace shixin

int main(int argc, char** argv) {
  // Before any thread starts (they inherit the mask): see ServerSignals().
  const sigset_t signals = shixin::ServerSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // The memory that abusive clients made the daemon hold comes back after they leave.
  shixin::ConfigureAllocator();
  return shixin::Main(std::vector<std::string>(argv + 1, argv + argc));
}
