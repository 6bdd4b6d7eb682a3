#include "base/socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/host_port.h"
#include "base/status_macros.h"

namespace shixin {
namespace {

// Connects a non-blocking socket to `ai` by `deadline`; returns the socket, made blocking.
absl::StatusOr<int> ConnectOne(const addrinfo* ai, absl::Time deadline) {
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("socket", errno);
  int rc;
  do {
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS) {
    int error = errno;
    close(fd);
    return SocketError("connect", error);
  }
  if (rc < 0) {
    absl::Status ready = PollUntil(fd, POLLOUT, deadline);
    int error = 0;
    socklen_t len = sizeof(error);
    if (ready.ok() && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (!ready.ok() || error != 0) {
      close(fd);
      if (!ready.ok()) {
        return absl::UnavailableError(absl::StrFormat("connect: %s", ready.message()));
      }
      return SocketError("connect", error);
    }
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // requests are small
  return fd;
}

// A name lookup in flight. Heap-allocated: if the lookup cannot be cancelled when the deadline
// passes, glibc's resolver thread still writes into it, and it is deliberately leaked.
struct Lookup {
  std::string host;
  std::string port;
  addrinfo hints = {};
  gaicb request = {};
};

// Resolves `hp` (a name or a numeric address) to a list for freeaddrinfo(), within `deadline`
// (getaddrinfo alone would wait for the resolver's own timeouts, which can be many seconds).
absl::StatusOr<addrinfo*> Resolve(const HostPort& hp, absl::Time deadline) {
  const std::string port = absl::StrCat(hp.port);
  // A numeric address needs no lookup (nor getaddrinfo_a's helper thread, which the thread
  // sanitizer cannot follow).
  addrinfo numeric = {};
  numeric.ai_family = AF_UNSPEC;
  numeric.ai_socktype = SOCK_STREAM;
  numeric.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* list = nullptr;
  if (getaddrinfo(hp.host.c_str(), port.c_str(), &numeric, &list) == 0) return list;
  auto* lookup = new Lookup{hp.host, port, numeric};
  lookup->hints.ai_flags = AI_NUMERICSERV;  // a name this time
  lookup->request.ar_name = lookup->host.c_str();
  lookup->request.ar_service = lookup->port.c_str();
  lookup->request.ar_request = &lookup->hints;
  gaicb* requests[] = {&lookup->request};
  int rc = getaddrinfo_a(GAI_NOWAIT, requests, 1, nullptr);
  if (rc == 0) rc = gai_error(&lookup->request);
  for (; rc == EAI_INPROGRESS; rc = gai_error(&lookup->request)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      const int cancel = gai_cancel(&lookup->request);
      if (cancel == EAI_ALLDONE) {
        freeaddrinfo(lookup->request.ar_result);
        delete lookup;
      } else if (cancel == EAI_CANCELED) {
        delete lookup;
      }
      return absl::UnavailableError(
          absl::StrFormat("resolve %s: no answer within the timeout", hp.host));
    }
    // Returns early on completion, a signal or the timeout; without a deadline, it waits.
    const timespec wait = absl::ToTimespec(left);
    gai_suspend(requests, 1, left == absl::InfiniteDuration() ? nullptr : &wait);
  }
  list = lookup->request.ar_result;
  const int saved_errno = errno;
  delete lookup;
  if (rc == EAI_SYSTEM) return SocketError(absl::StrCat("resolve ", hp.host), saved_errno);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrFormat("resolve %s: %s", hp.host, gai_strerror(rc)));
  }
  return list;
}

}  // namespace

absl::Status SocketError(std::string_view what, int error_number) {
  // ErrnoToStatus for its message: it formats the errno thread-safely, unlike strerror().
  return absl::UnavailableError(
      absl::ErrnoToStatus(error_number, absl::string_view(what.data(), what.size())).message());
}

absl::Status PollUntil(int fd, short events,  // NOLINT(google-runtime-int): poll(2)'s
                       absl::Time deadline) {
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    int ms = -1;
    if (left != absl::InfiniteDuration()) {
      int64_t ceil_ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
      ms = static_cast<int>(std::min<int64_t>(ceil_ms, INT_MAX));
    }
    pollfd p = {fd, events, 0};
    int n = poll(&p, 1, ms);
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) return SocketError("poll", errno);
  }
}

absl::StatusOr<int> ConnectTcp(std::string_view address, absl::Time deadline) {
  SHIXIN_ASSIGN_OR_RETURN(const HostPort hp,
                          ParseHostPort(address, "bad address", PortZero::kRefuse));
  SHIXIN_ASSIGN_OR_RETURN(addrinfo* const list, Resolve(hp, deadline));
  absl::Status last = absl::UnavailableError("no address");  // the last error is reported
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    absl::StatusOr<int> fd = ConnectOne(ai, deadline);
    if (fd.ok()) {
      freeaddrinfo(list);
      return *fd;
    }
    last = fd.status();
  }
  freeaddrinfo(list);
  return absl::UnavailableError(absl::StrFormat("%s: %s", address, last.message()));
}

}  // namespace shixin
