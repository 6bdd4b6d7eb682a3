// Built with -fexceptions (base/CMakeLists.txt): the one place that catches what std::thread
// throws.
#include "base/thread.h"

#include <pthread.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace shixin {
namespace {

// The longest thread name Linux keeps (16 bytes with the terminating NUL).
constexpr size_t kMaxThreadName = 15;

struct InjectedFailure {
  std::mutex mu;
  std::optional<std::string> name;  // guarded by mu
};

InjectedFailure& Injected() {
  static InjectedFailure* const injected = new InjectedFailure;
  return *injected;
}

bool FailureInjected(std::string_view name) {
  InjectedFailure& injected = Injected();
  std::lock_guard<std::mutex> lock(injected.mu);
  return injected.name.has_value() && *injected.name == name;
}

absl::Status CannotStart(std::string_view name, int error) {
  const absl::StatusCode code =
      error == EAGAIN ? absl::StatusCode::kResourceExhausted : absl::ErrnoToStatusCode(error);
  return absl::Status(
      code, absl::StrFormat("cannot start thread %s: %s", name.empty() ? "(helper)" : name,
                            std::generic_category().message(error)));
}

}  // namespace

absl::StatusOr<std::thread> StartThread(std::string_view name, absl::AnyInvocable<void() &&> body) {
  if (FailureInjected(name)) return CannotStart(name, EAGAIN);
  std::string thread_name(name.substr(0, kMaxThreadName));
  try {
    return std::thread([thread_name = std::move(thread_name), body = std::move(body)]() mutable {
      if (!thread_name.empty()) pthread_setname_np(pthread_self(), thread_name.c_str());
      std::move(body)();
    });
  } catch (const std::system_error& e) {
    return CannotStart(name, e.code().value());
  }
}

ScopedThreadStartFailure::ScopedThreadStartFailure(std::string name) {
  InjectedFailure& injected = Injected();
  std::lock_guard<std::mutex> lock(injected.mu);
  injected.name = std::move(name);
}

ScopedThreadStartFailure::~ScopedThreadStartFailure() {
  InjectedFailure& injected = Injected();
  std::lock_guard<std::mutex> lock(injected.mu);
  injected.name.reset();
}

}  // namespace shixin
