// Client-side TCP: connecting to "HOST:PORT" (base/host_port.h) within a deadline, and waiting
// on a descriptor until a deadline. Used by the protocol client and the load tool.
//
// Thread safety: the functions are thread-safe; a descriptor is the caller's to share or not.
#ifndef SHIXIN_BASE_SOCKET_H_
#define SHIXIN_BASE_SOCKET_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shixin {

// Returns Unavailable with the message "<what>: <strerror(error_number)>". A failed socket
// call means the peer cannot be reached or the connection is broken, which callers treat as
// Unavailable whatever the errno (absl::ErrnoToStatus would make EPIPE FailedPrecondition and
// ETIMEDOUT DeadlineExceeded, codes the protocol client gives other meanings).
absl::Status SocketError(std::string_view what, int error_number);

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or `deadline` passes. Readiness
// includes errors and hang-ups: the next send() or recv() reports them. Returns OK when ready,
// DeadlineExceeded ("timed out") once the deadline has passed (at once if it already has),
// Unavailable if poll() fails. absl::InfiniteFuture() waits without limit.
// NOLINTNEXTLINE(google-runtime-int): poll(2)'s type
absl::Status PollUntil(int fd, short events, absl::Time deadline);

// Parses `address` ("HOST:PORT" or "[IPV6]:PORT", port 1-65535; HOST may be a name), resolves
// it and connects to each of its addresses in turn (e.g. ::1, then 127.0.0.1 for "localhost")
// until one accepts. Returns the connected socket, blocking, close-on-exec, with TCP_NODELAY
// (requests are small); the caller owns it. Returns InvalidArgument for a malformed address
// ('bad address "<address>": ...'), Unavailable if the name does not resolve ("resolve HOST:
// ...") or no address accepts ("<address>: connect: ...") by `deadline`. A numeric address is
// not looked up; a name is resolved with getaddrinfo_a, which can be abandoned at the deadline.
absl::StatusOr<int> ConnectTcp(std::string_view address, absl::Time deadline);

}  // namespace shixin

#endif  // SHIXIN_BASE_SOCKET_H_
