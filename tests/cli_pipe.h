// A program run with its standard input and output on pipes that the test holds: the test
// writes input while the program runs and keeps the pipe open, as an operator typing IDs or a
// producer such as `tail -f` does, and reads what was answered so far. Every wait is bounded.
//
// Thread safety: one test thread per PipedRun.
#ifndef SHIXIN_TESTS_CLI_PIPE_H_
#define SHIXIN_TESTS_CLI_PIPE_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace shixin::testing {

class PipedRun {
 public:
  // Starts argv[0] (a path) with `argv`; its standard error goes to `err_path` (or /dev/null).
  // started() says whether it started.
  explicit PipedRun(const std::vector<std::string>& argv, const std::string& err_path = "") {
    signal(SIGPIPE, SIG_IGN);  // a write after the program exits fails rather than kills
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return;
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.empty() ? "/dev/null" : err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  PipedRun(const PipedRun&) = delete;
  PipedRun& operator=(const PipedRun&) = delete;
  ~PipedRun() {
    CloseInput();
    if (pid_ > 0 && Wait(std::chrono::seconds(10)) < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  bool started() const { return pid_ > 0; }

  // Writes `text` to the program's standard input; returns whether all of it was written.
  bool Write(std::string_view text) {
    while (!text.empty() && in_ >= 0) {
      const ssize_t n = write(in_, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return text.empty();
  }

  // Closes the program's standard input: the end of its input.
  void CloseInput() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }

  // Reads standard output until it holds `lines` lines in all, or the output ends, or `timeout`
  // passes; returns all of the output read so far.
  const std::string& ReadLines(size_t lines, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (static_cast<size_t>(std::count(out_text_.begin(), out_text_.end(), '\n')) < lines &&
           ReadSome(deadline)) {
    }
    return out_text_;
  }

  // Closes standard input (unless `close_input` is false: the program must exit by itself),
  // waits up to `timeout` for the program to exit, reading the rest of its output (out());
  // returns its exit status, or -1 if it did not exit by then.
  int Wait(std::chrono::milliseconds timeout, bool close_input = true) {
    if (close_input) CloseInput();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ReadSome(deadline)) {
    }
    while (pid_ > 0) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  const std::string& out() const { return out_text_; }

 private:
  // Reads what standard output has within `deadline`; returns false at its end or the deadline.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (out_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
      close(out_);
      out_ = -1;
      return false;
    }
    out_text_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string out_text_;
};

}  // namespace shixin::testing

#endif  // SHIXIN_TESTS_CLI_PIPE_H_
