#include "daemon/uring_transport.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <cerrno>
#include <utility>

namespace shixin {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Returns the io_uring result `result` as Asio would have reported it.
error_code ResultError(int result) {
  if (result == 0) return asio::error::eof;
  if (result == -ECANCELED) return asio::error::operation_aborted;
  return error_code(-result, boost::system::system_category());
}

}  // namespace

UringTransport::UringTransport(asio::ip::tcp::socket socket, UringLoop* loop)
    : loop_(loop), executor_(socket.get_executor()), fd_(-1) {
  error_code ec;
  fd_ = socket.release(ec);
  if (ec) fd_ = -1;  // every operation then fails with EBADF, and the connection closes
}

UringTransport::~UringTransport() {
  if (fd_ >= 0) ::close(fd_);
}

void UringTransport::Op::Complete(int result) {
  in_flight = false;
  IoHandler done = std::move(handler);
  handler = nullptr;
  transport_->CloseWhenIdle();  // before the handler, which may destroy the transport
  if (result > 0) {
    done(error_code(), static_cast<size_t>(result));
  } else {
    done(ResultError(result), 0);
  }
}

void UringTransport::Op::Abandon(std::vector<std::function<void()>>* graveyard) {
  in_flight = false;
  graveyard->push_back([done = std::move(handler)] {});
  handler = nullptr;
}

void UringTransport::AsyncReadSome(asio::mutable_buffer buffer, IoHandler handler) {
  read_.handler = std::move(handler);
  read_.in_flight = true;
  loop_->Recv(fd(), buffer.data(), buffer.size(), &read_);
}

void UringTransport::AsyncWriteSome(asio::const_buffer buffer, IoHandler handler) {
  write_.handler = std::move(handler);
  write_.in_flight = true;
  loop_->Send(fd(), buffer.data(), buffer.size(), &write_);
}

void UringTransport::ShutdownSend() {
  if (fd() >= 0) ::shutdown(fd(), SHUT_WR);
}

void UringTransport::ShutdownReceive() {
  if (fd() >= 0) ::shutdown(fd(), SHUT_RD);
}

bool UringTransport::ReceivedUnread() {
  int unread = 0;
  return fd() >= 0 && ::ioctl(fd(), FIONREAD, &unread) == 0 && unread > 0;
}

void UringTransport::Close() {
  if (closing_) return;
  closing_ = true;
  if (read_.in_flight) loop_->Cancel(&read_);
  if (write_.in_flight) loop_->Cancel(&write_);
  CloseWhenIdle();
}

void UringTransport::CloseWhenIdle() {
  if (!closing_ || fd_ < 0 || read_.in_flight || write_.in_flight) return;
  ::close(fd_);
  fd_ = -1;
}

}  // namespace shixin
