#include "tests/daemon_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "core/block_checksum.h"
#include "core/dataset.h"
#include "core/ingest.h"
#include "core/paths.h"
#include "protocol/operator_messages.h"
#include "synthetic/synthetic.h"

extern char** environ;

namespace shixin::e2e {
namespace {

std::string Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

absl::Status Errno(std::string_view what, int error) {
  return absl::InternalError(absl::StrFormat("%s: %s", std::string(what), std::strerror(error)));
}

// Milliseconds left until `deadline` for poll(), at least 0.
int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), 60000));
}

// Waits for `pid` until `deadline`; returns the wait status, or nullopt if it is still running.
std::optional<int> WaitPid(pid_t pid, absl::Time deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

std::string FileText(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? *text : "";
}

}  // namespace

// shixin_test() means to set SHIXIN_BIN_DIR, but its ENVIRONMENT list loses every variable
// after the first; the build directory compiled in (tests/CMakeLists.txt) stands in for it.
#ifndef SHIXIN_E2E_BIN_DIR
#define SHIXIN_E2E_BIN_DIR "build/bin"
#endif
#ifndef SHIXIN_E2E_SOURCE_DIR
#define SHIXIN_E2E_SOURCE_DIR "."
#endif

std::string BinDir() { return Env("SHIXIN_BIN_DIR", SHIXIN_E2E_BIN_DIR); }
std::string SourceDir() { return Env("SHIXIN_SOURCE_DIR", SHIXIN_E2E_SOURCE_DIR); }
std::string SampleDir() { return SourceDir() + "/data/sample"; }

ScratchDir::ScratchDir() {
  std::string base = ::testing::TempDir();
  if (base.empty() || base.back() != '/') base += '/';
  std::string templ = base + "shixin-e2e-XXXXXX";
  if (mkdtemp(templ.data()) != nullptr) path_ = templ;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ScratchDir::Path(std::string_view name) const {
  return absl::StrFormat("%s/%s", path_, std::string(name));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(path, errno);
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      const int error = errno;
      close(fd);
      return Errno(path, error);
    }
  }
  close(fd);
  return text;
}

absl::Status CopyDataDir(const std::string& from, const std::string& to) {
  for (const char* name : {kDebtorsFile, kRelationsFile}) {
    absl::StatusOr<std::string> text = ReadFile(absl::StrFormat("%s/%s", from, name));
    if (!text.ok()) return text.status();
    SHIXIN_RETURN_IF_ERROR(WriteFileAtomically(absl::StrFormat("%s/%s", to, name), *text));
  }
  return absl::OkStatus();
}

absl::Status SetDataDirMtime(const std::string& dir, absl::Time when) {
  const timeval tv = absl::ToTimeval(when);
  const timeval times[2] = {tv, tv};
  for (const char* name : {kDebtorsFile, kRelationsFile}) {
    const std::string path = absl::StrFormat("%s/%s", dir, name);
    if (utimes(path.c_str(), times) != 0) return Errno(path, errno);
  }
  return absl::OkStatus();
}

std::string LinesWithout(const std::string& text, const std::string& id) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size() - 1;
    const std::string line = text.substr(start, end - start + 1);
    if (line.find(id) == std::string::npos) out += line;
    start = end + 1;
  }
  return out;
}

absl::Status MakeSyntheticDataDir(const std::string& dir, uint64_t subjects, uint64_t seed) {
  SyntheticOptions options;
  options.subjects = subjects;
  options.seed = seed;
  absl::StatusOr<SyntheticStats> stats = WriteSyntheticDataSet(options, dir);
  return stats.ok() ? absl::OkStatus() : stats.status();
}

absl::StatusOr<std::unique_ptr<const Snapshot>> LoadSnapshot(const std::string& dir) {
  LoadReport report;
  return LoadDataDir(dir, LoadOptions{}, &report);
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_path,
                         absl::Duration timeout) {
  ProcessResult result;
  ScratchDir scratch;
  if (scratch.path().empty() || argv.empty()) return result;
  const std::string out_path = scratch.Path("stdout");
  const std::string err_path = scratch.Path("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  std::vector<char*> args = Argv(argv);
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.err = absl::StrFormat("posix_spawn %s: %s", argv[0], std::strerror(rc));
    return result;
  }
  std::optional<int> status = WaitPid(pid, absl::Now() + timeout);
  if (!status) {
    result.timed_out = true;
    kill(pid, SIGKILL);
    status = WaitPid(pid, absl::Now() + absl::Seconds(10));
  }
  if (status && WIFEXITED(*status) && !result.timed_out) result.exit_code = WEXITSTATUS(*status);
  result.out = FileText(out_path);
  result.err = FileText(err_path);
  return result;
}

// Daemon.

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const DaemonOptions& options) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->scratch_ = std::make_unique<ScratchDir>();
  if (d->scratch_->path().empty()) return absl::InternalError("cannot make a scratch directory");
  d->stderr_path_ = d->scratch_->Path("shixind.stderr");

  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Errno("pipe2", errno);
  std::vector<std::string> argv = {
      BinDir() + "/shixind", "--data",        options.data_dir,   "--listen",
      options.listen,        "--http-listen", options.http_listen};
  argv.insert(argv.end(), options.flags.begin(), options.flags.end());
  argv.insert(argv.begin(), options.wrapper.begin(), options.wrapper.end());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, d->stderr_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args = Argv(argv);
  const int rc = posix_spawn(&d->pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  d->stdout_fd_ = out_pipe[0];
  if (rc != 0) {
    d->pid_ = -1;
    return absl::InternalError(absl::StrFormat("posix_spawn %s: %s", argv[0], std::strerror(rc)));
  }
  if (!options.wait_for_listening) return d;

  // Reads standard output until the "listening on ADDR" line (and the HTTP one, printed last).
  constexpr std::string_view kHttpPrefix = "http listening on ";
  const absl::Time deadline = absl::Now() + options.start_timeout;
  std::string out;
  bool eof = false;
  const auto complete = [&] {
    if (out.find('\n') == std::string::npos) return false;
    if (options.http_listen.empty()) return true;
    const size_t http = out.find(kHttpPrefix);
    return http != std::string::npos && out.find('\n', http) != std::string::npos;
  };
  while (!complete() && !eof && absl::Now() < deadline) {
    pollfd p = {d->stdout_fd_, POLLIN, 0};
    const int n = poll(&p, 1, std::min(PollMs(deadline), 100));
    if (n < 0 && errno != EINTR) return Errno("poll", errno);
    if (n <= 0) continue;
    char buf[512];
    const ssize_t got = read(d->stdout_fd_, buf, sizeof(buf));
    if (got > 0) out.append(buf, static_cast<size_t>(got));
    if (got == 0) eof = true;
  }
  const size_t newline = out.find('\n');
  constexpr std::string_view kPrefix = "listening on ";
  if (newline == std::string::npos || !out.starts_with(kPrefix)) {
    if (!eof && newline == std::string::npos) {
      return absl::DeadlineExceededError(
          absl::StrFormat("shixind printed no address in %s; stderr:\n%s",
                          absl::FormatDuration(options.start_timeout), d->stderr_text()));
    }
    absl::StatusOr<int> exit = d->WaitForExit(absl::Seconds(10));
    return absl::FailedPreconditionError(absl::StrFormat(
        "shixind did not start (exit %s); stdout: %s; stderr:\n%s",
        exit.ok() ? absl::StrFormat("%d", *exit) : std::string(exit.status().message()), out,
        d->stderr_text()));
  }
  d->address_ = out.substr(kPrefix.size(), newline - kPrefix.size());
  if (const std::string_view rest = std::string_view(out).substr(newline + 1);
      rest.starts_with(kPrefix) && rest.find('\n') != std::string_view::npos) {
    d->second_address_ = std::string(rest.substr(kPrefix.size(), rest.find('\n') - kPrefix.size()));
  }
  const size_t colon = d->address_.rfind(':');
  if (colon == std::string::npos) return absl::InternalError("no port in " + d->address_);
  d->host_ = d->address_.substr(0, colon);
  if (d->host_.starts_with("[") && d->host_.ends_with("]")) {
    d->host_ = d->host_.substr(1, d->host_.size() - 2);
  }
  const int port = std::atoi(d->address_.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return absl::InternalError("bad port in " + d->address_);
  d->port_ = static_cast<uint16_t>(port);
  if (!options.http_listen.empty()) {
    const size_t http = out.find(kHttpPrefix);
    if (http == std::string::npos) {
      return absl::InternalError(absl::StrFormat("shixind printed no HTTP address: %s", out));
    }
    const size_t end = out.find('\n', http);
    const std::string address =
        out.substr(http + kHttpPrefix.size(), end - http - kHttpPrefix.size());
    const int http_port = std::atoi(address.c_str() + address.rfind(':') + 1);
    if (http_port <= 0 || http_port > 65535) return absl::InternalError("bad port in " + address);
    d->http_port_ = static_cast<uint16_t>(http_port);
  }
  return d;
}

Daemon::~Daemon() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    if (std::optional<int> status = WaitPid(pid_, absl::Now() + absl::Seconds(10))) Reap(*status);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

void Daemon::Reap(int wait_status) {
  exited_ = true;
  wait_status_ = wait_status;
}

std::string Daemon::stdout_text() {
  for (;;) {
    pollfd p = {stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
    char buf[512];
    const ssize_t got = read(stdout_fd_, buf, sizeof(buf));
    if (got <= 0) break;
    stdout_.append(buf, static_cast<size_t>(got));
  }
  return stdout_;
}

absl::Status Daemon::Signal(int signo) {
  if (pid_ <= 0 || exited_) return absl::FailedPreconditionError("the daemon is not running");
  if (kill(pid_, signo) != 0) return Errno("kill", errno);
  return absl::OkStatus();
}

absl::StatusOr<int> Daemon::WaitForExit(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("no daemon");
  if (!exited_) {
    std::optional<int> status = WaitPid(pid_, absl::Now() + timeout);
    if (!status) return absl::DeadlineExceededError("shixind is still running");
    Reap(*status);
  }
  if (WIFEXITED(wait_status_)) return WEXITSTATUS(wait_status_);
  if (WIFSIGNALED(wait_status_)) {
    return absl::InternalError(
        absl::StrFormat("shixind killed by signal %d", WTERMSIG(wait_status_)));
  }
  return absl::InternalError("shixind ended oddly");
}

bool Daemon::Running() {
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    Reap(status);
    return false;
  }
  return true;
}

std::string Daemon::stderr_text() const { return FileText(stderr_path_); }

bool Daemon::WaitForStderr(std::string_view text, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (absl::StrContains(stderr_text(), absl::string_view(text.data(), text.size()))) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::StatusOr<std::unique_ptr<Client>> Daemon::Connect(absl::Duration timeout, bool hello) const {
  auto client = Client::Connect(address_, timeout);
  if (!client.ok()) return client;
  (*client)->set_timeout(absl::Seconds(10));
  if (hello) {
    absl::StatusOr<Reply<wire::HelloResponse>> answer = (*client)->Hello("daemon_harness");
    if (!answer.ok()) return answer.status();
  }
  return client;
}

absl::StatusOr<Reply<wire::InfoResponse>> Daemon::WaitForInfo(
    absl::FunctionRef<bool(const wire::InfoResponse&)> done, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<Client> client;
  std::string last = "(no INFO answered)";
  for (;;) {
    if (client == nullptr) {
      auto c = Connect();
      if (c.ok()) client = *std::move(c);
    }
    if (client != nullptr) {
      auto info = client->Info();
      if (info.ok()) {
        if (done(info->value)) return info;
        last = absl::StrFormat("generation %d, reload state %s, message \"%s\"",
                               info->value.generation,
                               std::string(wire::ReloadStateName(info->value.reload_state)),
                               info->value.last_reload_message);
      } else {
        last = std::string(info.status().message());
        client.reset();
      }
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("INFO never satisfied the condition in %s; last: %s",
                          absl::FormatDuration(timeout), last));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// RawSocket.

std::unique_ptr<Daemon> StartOrDie(const std::string& data_dir,
                                   const std::vector<std::string>& flags,
                                   const std::string& listen) {
  DaemonOptions options;
  options.data_dir = data_dir;
  options.flags = flags;
  options.listen = listen;
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  EXPECT_TRUE(daemon.ok()) << daemon.status();
  return daemon.ok() ? *std::move(daemon) : nullptr;
}

void SampleListTest::SetUp() {
  ASSERT_FALSE(scratch_.path().empty());
  dir_ = scratch_.Path("data");
  std::error_code ec;
  ASSERT_TRUE(std::filesystem::create_directory(dir_, ec)) << ec.message();
  ASSERT_TRUE(CopyDataDir(SampleDir(), dir_).ok());
  absl::StatusOr<std::string> debtors = ReadFile(Debtors());
  ASSERT_TRUE(debtors.ok()) << debtors.status();
  sample_debtors_ = *std::move(debtors);
}

std::string SampleListTest::Debtors() const { return dir_ + "/" + kDebtorsFile; }

void SampleListTest::StartDaemon(const std::vector<std::string>& flags) {
  daemon_ = StartOrDie(dir_, flags);
  ASSERT_NE(daemon_, nullptr);
  absl::StatusOr<std::unique_ptr<Client>> client = daemon_->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = *std::move(client);
}

absl::StatusOr<std::unique_ptr<RawSocket>> RawSocket::Connect(const std::string& host,
                                                              uint16_t port,
                                                              const Options& options) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port_text = absl::StrFormat("%d", port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &list); rc != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", host, gai_strerror(rc)));
  }
  const int fd = socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(list);
    return Errno("socket", errno);
  }
  if (options.receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer, sizeof(int));
  }
  if (!options.source.empty()) {
    sockaddr_in local = {};
    local.sin_family = AF_INET;
    if (list->ai_family != AF_INET ||
        inet_pton(AF_INET, options.source.c_str(), &local.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
      const int error = errno;
      freeaddrinfo(list);
      close(fd);
      return Errno(absl::StrFormat("bind %s", options.source), error);
    }
  }
  // Loopback connects at once (or is refused); the daemon accepts from its own thread.
  int rc;
  do {
    rc = connect(fd, list->ai_addr, list->ai_addrlen);
  } while (rc != 0 && errno == EINTR);
  freeaddrinfo(list);
  if (rc != 0) {
    const int error = errno;
    close(fd);
    return Errno("connect", error);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RawSocket>(new RawSocket(fd));
}

RawSocket::~RawSocket() { Close(); }

absl::Status RawSocket::Send(std::string_view bytes, absl::Duration timeout) {
  if (fd_ < 0) return absl::FailedPreconditionError("closed");
  const absl::Time deadline = absl::Now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (absl::Now() >= deadline) return absl::DeadlineExceededError("send timed out");
      pollfd p = {fd_, POLLOUT, 0};
      poll(&p, 1, PollMs(deadline));
      continue;
    }
    return Errno("send", errno);
  }
  return absl::OkStatus();
}

void RawSocket::ShutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

void RawSocket::Close(bool reset) {
  if (fd_ < 0) return;
  if (reset) {
    linger l = {1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }
  close(fd_);
  fd_ = -1;
}

RawSocket::ReadResult RawSocket::ReadUntilClose(absl::Duration timeout) {
  ReadResult result;
  result.bytes = std::move(buffer_);
  buffer_.clear();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  if (fd_ < 0) {
    result.end = End::kError;
    return result;
  }
  for (;;) {
    pollfd p = {fd_, POLLIN, 0};
    const int n = poll(&p, 1, PollMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      result.end = End::kTimeout;
      break;
    }
    char buf[1 << 16];
    const ssize_t got = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (got > 0) {
      result.bytes.append(buf, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) {
      result.end = End::kEof;
      break;
    }
    if (errno == EAGAIN || errno == EINTR) continue;
    result.end = errno == ECONNRESET ? End::kReset : End::kError;
    break;
  }
  result.elapsed = absl::Now() - start;
  return result;
}

absl::StatusOr<Frame> RawSocket::ReadFrame(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const wire::Decoded d = wire::DecodeFrame(buffer_, wire::kMaxPayloadLimit);
    if (d.result == wire::DecodeResult::kComplete) {
      Frame frame{d.header, std::string(d.payload)};
      buffer_.erase(0, d.consumed);
      return frame;
    }
    if (d.result == wire::DecodeResult::kInvalid) {
      return absl::InternalError("bad frame from the daemon: " + d.message);
    }
    if (fd_ < 0) return absl::UnavailableError("closed");
    pollfd p = {fd_, POLLIN, 0};
    const int n = poll(&p, 1, PollMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return absl::DeadlineExceededError("no frame in time");
    char buf[1 << 16];
    const ssize_t got = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (got > 0) {
      buffer_.append(buf, static_cast<size_t>(got));
    } else if (got == 0) {
      return absl::UnavailableError("EOF");
    } else if (errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrFormat("recv: %s", std::strerror(errno)));
    }
  }
}

absl::StatusOr<std::vector<Frame>> SplitFrames(std::string_view bytes, std::string* rest) {
  std::vector<Frame> frames;
  for (;;) {
    const wire::Decoded d = wire::DecodeFrame(bytes, wire::kMaxPayloadLimit);
    if (d.result == wire::DecodeResult::kInvalid) {
      return absl::InternalError("bad frame from the daemon: " + d.message);
    }
    if (d.result == wire::DecodeResult::kNeedMore) break;
    frames.push_back(Frame{d.header, std::string(d.payload)});
    bytes.remove_prefix(d.consumed);
  }
  if (rest != nullptr) *rest = std::string(bytes);
  return frames;
}

std::vector<std::string> ProcStatFields(const std::string& path) {
  absl::StatusOr<std::string> stat = ReadFile(path);
  if (!stat.ok()) return {};
  const size_t paren = stat->rfind(')');  // comm may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 > stat->size()) return {};
  return absl::StrSplit(
      absl::StripTrailingAsciiWhitespace(absl::string_view(*stat).substr(paren + 2)), ' ');
}

std::string RequestFrame(wire::Opcode op, uint32_t request_id, std::string_view payload) {
  wire::FrameHeader h;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = request_id;
  h.payload_size = static_cast<uint32_t>(payload.size());
  std::string frame;
  wire::AppendHeader(h, &frame);
  frame.append(payload);
  return frame;
}

std::string CheckPayload(const std::vector<std::string>& ids, uint8_t version) {
  std::string payload;
  wire::Encode(wire::CheckRequest{ids}, &payload, version);
  return payload;
}

std::string MeasuresPayload(const wire::MeasuresRequest& request) {
  std::string payload;
  wire::Encode(request, &payload);
  return payload;
}

std::string ErrorMessage(const Frame& frame) {
  absl::StatusOr<std::string> message = wire::DecodeError(frame.payload);
  return message.ok() ? *message : "(undecodable)";
}

}  // namespace shixin::e2e
