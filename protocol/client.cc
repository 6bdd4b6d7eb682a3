#include "protocol/client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_format.h"

namespace shixin {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

absl::Status SocketError(std::string_view what, int error) {
  return absl::UnavailableError(absl::StrFormat("%s: %s", what, std::strerror(error)));
}

struct HostPort {
  std::string host;
  std::string port;
};

// Splits "HOST:PORT" or "[V6]:PORT".
absl::StatusOr<HostPort> ParseAddress(std::string_view address) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad address \"%s\": %s (expected HOST:PORT or [V6]:PORT)", address, why));
  };
  HostPort hp;
  std::string_view rest;
  if (address.starts_with("[")) {
    size_t close = address.find(']');
    if (close == std::string_view::npos) return bad("no closing ']'");
    hp.host = std::string(address.substr(1, close - 1));
    rest = address.substr(close + 1);
    if (!rest.starts_with(":")) return bad("no ':PORT' after ']'");
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    hp.host = std::string(address.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets");
    rest = address.substr(colon);
  }
  rest.remove_prefix(1);  // ':'
  if (hp.host.empty()) return bad("empty host");
  if (rest.empty() || rest.size() > 5 || rest.find_first_not_of("0123456789") != rest.npos) {
    return bad("the port is not a number");
  }
  int port = 0;
  for (char c : rest) port = port * 10 + (c - '0');
  if (port < 1 || port > 65535) return bad("the port is not in 1-65535");
  hp.port = std::string(rest);
  return hp;
}

// Waits until `fd` is ready for `events` or `deadline` passes (DeadlineExceeded). Readiness
// includes errors and hang-ups: the following send() or recv() reports them.
absl::Status WaitFor(int fd, short events, absl::Time deadline) {
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
    absl::Status ready = WaitFor(fd, POLLOUT, deadline);
    int error = 0;
    socklen_t len = sizeof(error);
    if (ready.ok() && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (!ready.ok() || error != 0) {
      close(fd);
      if (!ready.ok())
        return absl::UnavailableError(absl::StrFormat("connect: %s", ready.message()));
      return SocketError("connect", error);
    }
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // requests are small
  return fd;
}

std::string_view Name(wire::Opcode op) { return wire::OpcodeName(op); }

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
  // A numeric address needs no lookup (nor getaddrinfo_a's helper thread, which the thread
  // sanitizer cannot follow).
  addrinfo numeric = {};
  numeric.ai_family = AF_UNSPEC;
  numeric.ai_socktype = SOCK_STREAM;
  numeric.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* list = nullptr;
  if (getaddrinfo(hp.host.c_str(), hp.port.c_str(), &numeric, &list) == 0) return list;
  auto* lookup = new Lookup{hp.host, hp.port, numeric};
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
    const timespec wait = absl::ToTimespec(left);
    gai_suspend(requests, 1, &wait);  // returns early on completion, a signal or the timeout
  }
  list = lookup->request.ar_result;
  const int saved_errno = errno;
  delete lookup;
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrFormat("resolve %s: %s", hp.host,
                        rc == EAI_SYSTEM ? std::strerror(saved_errno) : gai_strerror(rc)));
  }
  return list;
}

}  // namespace

absl::Status StatusFromWire(wire::Status status, std::string_view message) {
  std::string text = absl::StrFormat("%s: %s", wire::StatusName(status), message);
  switch (status) {
    case wire::Status::kOk:
      return absl::OkStatus();
    case wire::Status::kInvalidId:
    case wire::Status::kInvalidArgument:
      return absl::InvalidArgumentError(text);
    case wire::Status::kStaleRefused:
      return absl::FailedPreconditionError(text);
    case wire::Status::kUnavailable:
    case wire::Status::kBusy:
      return absl::UnavailableError(text);
    case wire::Status::kReloadFailed:
      return absl::AbortedError(text);
    case wire::Status::kForbidden:
      return absl::PermissionDeniedError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(std::string_view address,
                                                        absl::Duration timeout) {
  absl::StatusOr<HostPort> hp = ParseAddress(address);
  if (!hp.ok()) return hp.status();
  absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<addrinfo*> resolved = Resolve(*hp, deadline);
  if (!resolved.ok()) return resolved.status();
  addrinfo* list = *resolved;
  // Each address in turn (e.g. ::1, then 127.0.0.1 for "localhost"); the last error is kept.
  absl::Status last = absl::UnavailableError("no address");
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    absl::StatusOr<int> fd = ConnectOne(ai, deadline);
    if (fd.ok()) {
      freeaddrinfo(list);
      return std::unique_ptr<Client>(new Client(*fd));
    }
    last = fd.status();
  }
  freeaddrinfo(list);
  return absl::UnavailableError(absl::StrFormat("%s: %s", address, last.message()));
}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buffer_.clear();
}

absl::Status Client::SendBytes(std::string_view bytes) {
  if (fd_ < 0) return absl::UnavailableError("not connected (closed after an earlier error)");
  absl::Time deadline = absl::Now() + timeout_;
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (absl::Status s = WaitFor(fd_, POLLOUT, deadline); !s.ok()) {
        Close();  // part of a frame may be out: the stream cannot be resumed
        return s;
      }
    } else if (errno != EINTR) {
      absl::Status s = SocketError("send", errno);
      Close();
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Client::SendFrame(wire::Opcode op, uint32_t request_id, std::string_view payload) {
  if (payload.size() > wire::kMaxPayloadLimit) {
    return absl::InvalidArgumentError(absl::StrFormat("%s payload of %d bytes exceeds %d", Name(op),
                                                      payload.size(), wire::kMaxPayloadLimit));
  }
  wire::FrameHeader h;
  h.version = version_;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = request_id;
  h.payload_size = static_cast<uint32_t>(payload.size());
  std::string frame;
  frame.reserve(wire::kHeaderSize + payload.size());
  wire::AppendHeader(h, &frame);
  frame.append(payload);
  return SendBytes(frame);
}

absl::StatusOr<Frame> Client::ReceiveFrame() { return ReceiveFrameBy(absl::Now() + timeout_); }

absl::StatusOr<Frame> Client::ReceiveFrameBy(absl::Time deadline) {
  for (;;) {
    if (fd_ < 0) return absl::UnavailableError("not connected (closed after an earlier error)");
    wire::Decoded d = wire::DecodeFrame(buffer_, wire::kMaxPayloadLimit);
    if (d.result == wire::DecodeResult::kComplete) {
      Frame frame{d.header, std::string(d.payload)};
      buffer_.erase(0, d.consumed);
      return frame;
    }
    if (d.result == wire::DecodeResult::kInvalid) {
      Close();
      return absl::InternalError(absl::StrFormat("bad frame from the server: %s", d.message));
    }
    size_t old = buffer_.size();
    buffer_.resize(old + kReadChunk);
    ssize_t n = recv(fd_, buffer_.data() + old, kReadChunk, MSG_DONTWAIT);
    buffer_.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) continue;
    if (n == 0) {
      Close();
      return absl::UnavailableError("connection closed by the server");
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (absl::Status s = WaitFor(fd_, POLLIN, deadline); !s.ok()) return s;
    } else if (errno != EINTR) {
      absl::Status s = SocketError("recv", errno);
      Close();
      return s;
    }
  }
}

absl::StatusOr<Frame> Client::Call(wire::Opcode op, std::string_view payload) {
  absl::Time deadline = absl::Now() + timeout_;
  uint32_t id = NextRequestId();
  if (absl::Status s = SendFrame(op, id, payload); !s.ok()) return s;
  absl::StatusOr<Frame> frame = ReceiveFrameBy(deadline);
  if (absl::IsDeadlineExceeded(frame.status())) {
    Close();  // the late answer would be taken for the next call's
    return absl::DeadlineExceededError(
        absl::StrFormat("%s: no response in %s", Name(op), absl::FormatDuration(timeout_)));
  }
  if (!frame.ok()) return frame.status();
  const wire::FrameHeader& h = frame->header;
  auto status = static_cast<wire::Status>(h.status);
  // A fatal error about a frame the server could not read carries request id 0.
  bool unaddressed_fatal = wire::IsFatal(status) && h.request_id == 0;
  if ((h.flags & wire::kFlagResponse) == 0 || (h.request_id != id && !unaddressed_fatal) ||
      (status == wire::Status::kOk && h.opcode != static_cast<uint8_t>(op))) {
    Close();
    return absl::InternalError(
        absl::StrFormat("%s: unexpected response id %u opcode %d flags 0x%04x (expected id %u)",
                        Name(op), h.request_id, h.opcode, h.flags, id));
  }
  if (status == wire::Status::kOk) return frame;
  absl::StatusOr<std::string> message = wire::DecodeError(frame->payload);
  if (wire::IsFatal(status)) Close();  // the server has closed its end
  return StatusFromWire(status, message.ok() ? *message : "(malformed error message)");
}

namespace {

template <typename T>
Reply<T> MakeReply(const Frame& frame, T value) {
  return Reply<T>{std::move(value), frame.header.generation,
                  (frame.header.flags & wire::kFlagStale) != 0};
}

// Wraps a decoding failure of a response: the server sent what this client cannot read.
absl::Status BadResponse(const absl::Status& status) {
  return absl::InternalError(absl::StrFormat("malformed response: %s", status.message()));
}

absl::Status CheckIdSize(std::string_view what, std::string_view id) {
  if (id.size() <= wire::kMaxIdBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("%s of %d bytes exceeds the limit of %d", what,
                                                    id.size(), wire::kMaxIdBytes));
}

}  // namespace

absl::StatusOr<Reply<wire::HelloResponse>> Client::Hello(std::string_view client_name) {
  wire::HelloRequest request;
  request.max_version = wire::kVersion;
  request.client_name = std::string(client_name);
  std::string payload;
  wire::Encode(request, &payload);
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kHello, payload);
  if (!frame.ok()) return frame.status();
  absl::StatusOr<wire::HelloResponse> response = wire::DecodeHelloResponse(frame->payload);
  if (!response.ok()) return BadResponse(response.status());
  if (response->version > wire::kVersion) {
    Close();
    return absl::InternalError(absl::StrFormat(
        "HELLO: the server chose version %d, above ours (%d)", response->version, wire::kVersion));
  }
  version_ = response->version;
  return MakeReply(*frame, *std::move(response));
}

absl::StatusOr<Reply<bool>> Client::Ping() {
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kPing, "");
  if (!frame.ok()) return frame.status();
  if (absl::Status s = wire::DecodeEmpty(frame->payload); !s.ok()) return BadResponse(s);
  return MakeReply(*frame, true);
}

absl::StatusOr<Reply<std::vector<CheckAnswerCopy>>> Client::Check(
    const std::vector<std::string>& ids) {
  if (ids.empty() || ids.size() > 0xFFFF) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CHECK takes 1 to 65535 IDs, not %d", ids.size()));
  }
  for (const std::string& id : ids) {
    if (absl::Status s = CheckIdSize("an ID", id); !s.ok()) return s;
  }
  std::string payload;
  wire::Encode(wire::CheckRequest{ids}, &payload);
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kCheck, payload);
  if (!frame.ok()) return frame.status();
  absl::StatusOr<std::vector<wire::CheckAnswer>> answers =
      wire::DecodeCheckResponse(frame->payload);
  if (!answers.ok()) return BadResponse(answers.status());
  if (answers->size() != ids.size()) {
    return absl::InternalError(
        absl::StrFormat("CHECK: %d answers for %d IDs", answers->size(), ids.size()));
  }
  std::vector<CheckAnswerCopy> copies;
  copies.reserve(answers->size());
  for (const wire::CheckAnswer& a : *answers) {
    copies.push_back(CheckAnswerCopy{a.status, std::string(a.error), std::string(a.id), a.kind,
                                     a.cases, a.roles, std::string(a.name)});
  }
  return MakeReply(*frame, std::move(copies));
}

absl::StatusOr<Reply<MeasuresResult>> Client::Measures(const wire::MeasuresRequest& request) {
  if (request.officers.size() > wire::kMaxOfficers) {
    return absl::InvalidArgumentError(absl::StrFormat("%d officers; MEASURES takes at most %d",
                                                      request.officers.size(), wire::kMaxOfficers));
  }
  absl::Status s = CheckIdSize("the ID", request.id);
  if (s.ok()) s = CheckIdSize("the agency", request.agency);
  if (s.ok()) s = CheckIdSize("the scenario", request.scenario);
  for (const auto& officer : request.officers) {
    if (s.ok()) s = CheckIdSize("an officer's ID", officer.second);
  }
  if (!s.ok()) return s;
  std::string payload;
  wire::Encode(request, &payload);
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kMeasures, payload);
  if (!frame.ok()) return frame.status();
  absl::StatusOr<MeasuresResult> result = wire::DecodeMeasuresResponse(frame->payload);
  if (!result.ok()) return BadResponse(result.status());
  return MakeReply(*frame, *std::move(result));
}

absl::StatusOr<Reply<CheckResult>> Client::Detail(std::string_view id) {
  if (absl::Status s = CheckIdSize("the ID", id); !s.ok()) return s;
  std::string payload;
  wire::Encode(wire::DetailRequest{std::string(id)}, &payload);
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kDetail, payload);
  if (!frame.ok()) return frame.status();
  absl::StatusOr<CheckResult> result = wire::DecodeDetailResponse(frame->payload);
  if (!result.ok()) return BadResponse(result.status());
  return MakeReply(*frame, *std::move(result));
}

absl::StatusOr<Reply<wire::InfoResponse>> Client::Info() {
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kInfo, "");
  if (!frame.ok()) return frame.status();
  absl::StatusOr<wire::InfoResponse> info = wire::DecodeInfoResponse(frame->payload);
  if (!info.ok()) return BadResponse(info.status());
  return MakeReply(*frame, *std::move(info));
}

absl::StatusOr<Reply<wire::ReloadResponse>> Client::Reload(const wire::ReloadRequest& request) {
  std::string payload;
  wire::Encode(request, &payload);
  absl::StatusOr<Frame> frame = Call(wire::Opcode::kReload, payload);
  if (!frame.ok()) return frame.status();
  absl::StatusOr<wire::ReloadResponse> reload = wire::DecodeReloadResponse(frame->payload);
  if (!reload.ok()) return BadResponse(reload.status());
  return MakeReply(*frame, *std::move(reload));
}

}  // namespace shixin
