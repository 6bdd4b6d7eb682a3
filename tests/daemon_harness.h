// A harness for end-to-end tests of shixind: runs the built daemon as a child process on a
// loopback address, reads the port it prints, sends it signals and waits for its exit; plus
// raw sockets for malformed input, scratch directories, data-set helpers (IDs picked from a list:
// tests/id_sample.h), a fixture for tests
// that change their own copy of the sample list (SampleListTest) and a runner for the shixin
// CLI.
//
// Every wait is bounded. Binaries are found in $SHIXIN_BIN_DIR (set by shixin_test() in the
// top-level CMakeLists.txt), the source tree in $SHIXIN_SOURCE_DIR.
//
// Thread safety: a Daemon, RawSocket or ScratchDir is used by one thread at a time; the free
// functions are reentrant.
#ifndef SHIXIN_TESTS_DAEMON_HARNESS_H_
#define SHIXIN_TESTS_DAEMON_HARNESS_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/sanitizers.h"
#include "core/paths.h"
#include "core/snapshot.h"
#include "protocol/client.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/wire.h"
#include "tests/id_sample.h"

namespace shixin::e2e {

// $SHIXIN_BIN_DIR, or the build's bin/ directory.
std::string BinDir();
// $SHIXIN_SOURCE_DIR, or the source tree this was built from.
std::string SourceDir();
// The shipped sample list: SourceDir() + "/data/sample".
std::string SampleDir();

// A fresh directory under testing::TempDir(), removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Empty if the directory could not be made.
  const std::string& path() const { return path_; }
  // Returns path() + "/" + name.
  std::string Path(std::string_view name) const;

 private:
  std::string path_;
};

// Files.
absl::StatusOr<std::string> ReadFile(const std::string& path);
// WriteFileAtomically(path, content) (core/paths.h) writes a new file beside `path` and renames
// it over `path`, as a feed updater would.
// Copies debtors.ndjson and relations.ndjson from `from` to `to` (which must exist).
absl::Status CopyDataDir(const std::string& from, const std::string& to);
// Sets the access and modification times of both data files of `dir` to `when`.
absl::Status SetDataDirMtime(const std::string& dir, absl::Time when);
// Writes a synthetic data set of `subjects` subjects into `dir`.
absl::Status MakeSyntheticDataDir(const std::string& dir, uint64_t subjects, uint64_t seed = 1);
// Returns the size of a synthetic list whose reload takes at least as long as one of `subjects`
// in a Release build: a fifth of it under the sanitizers, whose daemon loads ~10x slower (the
// reload tests are about order and swaps, not size; CI's time on two cores).
constexpr uint64_t ReloadSubjects(uint64_t subjects) {
  return kSanitizedBuild ? subjects / 5 : subjects;
}

// Returns the lines of `text` (NDJSON) that do not mention `id`.
std::string LinesWithout(const std::string& text, const std::string& id);

// Loads `dir` into an in-process snapshot (as the daemon does).
absl::StatusOr<std::unique_ptr<const Snapshot>> LoadSnapshot(const std::string& dir);

// A child process run to completion.
struct ProcessResult {
  int exit_code = -1;  // 0-255 if the process exited, else -1 (killed, timed out)
  bool timed_out = false;
  std::string out;  // standard output
  std::string err;  // standard error
};
// Runs argv[0] (a path) with `argv`, standard input from `stdin_path` (or /dev/null), and
// returns its exit status and output. Kills it after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_path = "",
                         absl::Duration timeout = absl::Seconds(60));

struct DaemonOptions {
  std::string data_dir;
  std::string listen = "127.0.0.1:0";
  // --http-listen: "" (the default here) turns the HTTP listener off; "127.0.0.1:0" picks a
  // free port (Daemon::http_port()). Never the daemon's default, which parallel tests share.
  std::string http_listen;
  std::vector<std::string> flags;  // more flags, e.g. {"--max-connections", "4"}
  // A command that runs shixind, prepended to its argv (its first word a path), e.g.
  // {"/usr/bin/prlimit", "--fsize=1000000"}; it must exec shixind in its own process.
  std::vector<std::string> wrapper;
  absl::Duration start_timeout = absl::Seconds(30);
  // false: Daemon::Start() returns once the process runs, without waiting for its addresses
  // (port() and the addresses are then unknown; a test of the start itself).
  bool wait_for_listening = true;
};

// A running shixind.
class Daemon {
 public:
  // Starts shixind --data DIR --listen ADDR --http-listen ADDR FLAGS..., and waits
  // (options.start_timeout) for "listening on ADDR" on its standard output (and, with
  // http_listen, "http listening on ADDR"). Its standard error goes to a file (stderr_text()).
  // Returns FailedPrecondition with the exit status and standard error if it exits first,
  // DeadlineExceeded if it prints nothing in time (the child is killed).
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const DaemonOptions& options);
  // Kills the daemon (SIGKILL) if it is still running, and reaps it.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  // What the daemon printed: "127.0.0.1:PORT" or "[::1]:PORT".
  const std::string& address() const { return address_; }
  // The second listener's address when it serves a plain and a TLS listener (printed second,
  // in the same write as the first); empty otherwise.
  const std::string& second_address() const { return second_address_; }
  // The host part, without brackets ("127.0.0.1", "::1").
  const std::string& host() const { return host_; }
  // The HTTP listener's port; 0 without DaemonOptions::http_listen.
  uint16_t http_port() const { return http_port_; }

  absl::Status Signal(int signo);
  // Waits up to `timeout` for the daemon to exit. Returns its exit status (0-255), Internal if
  // a signal killed it, DeadlineExceeded if it is still running.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  // Whether the process has not exited yet.
  bool Running();

  // The daemon's standard error so far.
  std::string stderr_text() const;
  // What the daemon printed on standard output so far, past the lines Start() read.
  std::string stdout_text();
  const std::string& stderr_path() const { return stderr_path_; }
  // Returns whether `text` appears in the daemon's standard error within `timeout` (polled).
  bool WaitForStderr(std::string_view text, absl::Duration timeout = absl::Seconds(10)) const;

  // A protocol client connected to the daemon: of version 1 (no HELLO sent), or with `hello`
  // of the highest version both sides speak (a HELLO sent, as the CLI does).
  absl::StatusOr<std::unique_ptr<Client>> Connect(absl::Duration timeout = absl::Seconds(5),
                                                  bool hello = false) const;

  // Polls INFO (every 20 ms, each time on a fresh connection if needed) until `done` holds or
  // `timeout` passes (DeadlineExceeded, with the last INFO in the message). Returns that INFO.
  absl::StatusOr<Reply<wire::InfoResponse>> WaitForInfo(
      absl::FunctionRef<bool(const wire::InfoResponse&)> done,
      absl::Duration timeout = absl::Seconds(20)) const;

 private:
  Daemon() = default;
  void Reap(int wait_status);

  pid_t pid_ = -1;
  bool exited_ = false;
  int wait_status_ = 0;
  int stdout_fd_ = -1;  // kept open so that later writes to stdout do not fail
  std::string stdout_;  // read by stdout_text()
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  std::string address_;
  std::string second_address_;
  std::string host_;
  std::string stderr_path_;
  std::unique_ptr<ScratchDir> scratch_;  // holds the stderr file
};

// Starts shixind on `data_dir` (Daemon::Start) with `flags`, listening on `listen`. Returns it,
// or fails the test and returns nullptr if it does not start.
std::unique_ptr<Daemon> StartOrDie(const std::string& data_dir,
                                   const std::vector<std::string>& flags = {},
                                   const std::string& listen = "127.0.0.1:0");

// A test of shixind on its own copy of the sample list, which it may change: SetUp() copies the
// sample into dir_ (in scratch_) and keeps its debtors file in sample_debtors_.
class SampleListTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // dir_'s debtors file.
  std::string Debtors() const;

  // Starts shixind on dir_ with `flags` (daemon_) and connects client_ to it; fails the test
  // (fatally: call it inside ASSERT_NO_FATAL_FAILURE to stop the test) if either fails.
  void StartDaemon(const std::vector<std::string>& flags = {});

  ScratchDir scratch_;
  std::string dir_;
  std::string sample_debtors_;  // the sample's debtors.ndjson
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> client_;
};

// How a RawSocket connects.
struct RawSocketOptions {
  std::string source;      // the local address, e.g. "127.0.0.2" (another client); or any
  int receive_buffer = 0;  // SO_RCVBUF in bytes, or 0 for the system's (autotuned)
};

// A raw TCP connection for malformed input: exact bytes out, exact bytes in, and how the peer
// ended the connection.
class RawSocket {
 public:
  using Options = RawSocketOptions;
  static absl::StatusOr<std::unique_ptr<RawSocket>> Connect(const std::string& host, uint16_t port,
                                                            const Options& options = {});
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // Sends all of `bytes`; DeadlineExceeded if the peer does not take them within `timeout`.
  absl::Status Send(std::string_view bytes, absl::Duration timeout = absl::Seconds(10));
  // Half-closes: the peer reads EOF; this side can still read.
  void ShutdownWrite();
  // Closes at once; with `reset`, with a TCP RST (SO_LINGER 0) instead of a FIN.
  void Close(bool reset = false);

  enum class End { kEof, kReset, kTimeout, kError };
  struct ReadResult {
    std::string bytes;  // everything received
    End end = End::kTimeout;
    absl::Duration elapsed;  // until the end (or the timeout)
  };
  // Reads until the peer closes, or `timeout`.
  ReadResult ReadUntilClose(absl::Duration timeout);
  // Reads one whole frame (DeadlineExceeded after `timeout`, Unavailable on EOF or reset).
  absl::StatusOr<Frame> ReadFrame(absl::Duration timeout);

 private:
  explicit RawSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buffer_;  // received, not yet returned by ReadFrame()
};

// Splits `bytes` into the response frames it holds; `rest` receives what does not form a
// whole frame. Returns an error if the bytes are not frames.
absl::StatusOr<std::vector<Frame>> SplitFrames(std::string_view bytes, std::string* rest);

// The fields of the /proc stat file at `path` (a process's or a thread's) after "pid (comm) ":
// element 0 is proc(5)'s field 3 (state). Empty if it cannot be read.
std::vector<std::string> ProcStatFields(const std::string& path);

// Request frames.
std::string RequestFrame(wire::Opcode op, uint32_t request_id, std::string_view payload);
// A CHECK payload of `version` (the connection's), asking for now.
std::string CheckPayload(const std::vector<std::string>& ids, uint8_t version = wire::kVersion);
std::string MeasuresPayload(const wire::MeasuresRequest& request);
// The error message of an error frame, or "(undecodable)".
std::string ErrorMessage(const Frame& frame);

}  // namespace shixin::e2e

#endif  // SHIXIN_TESTS_DAEMON_HARNESS_H_
