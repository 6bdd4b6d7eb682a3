// Helpers of the tests that drive a daemon's io_context by hand (stream_pump_test.cc,
// uring_transport_test.cc).
//
// Thread safety: call from the thread that runs `io`.
#ifndef SHIXIN_DAEMON_IO_TEST_UTIL_H_
#define SHIXIN_DAEMON_IO_TEST_UTIL_H_

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace shixin {

// Runs `io` in slices of 10 ms until done() returns true or 5 s have passed (a test then fails
// on its own assertion, not by hanging).
template <typename Done>
void RunIoUntil(boost::asio::io_context& io, Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.run_for(std::chrono::milliseconds(10));
    io.restart();
  }
}

}  // namespace shixin

#endif  // SHIXIN_DAEMON_IO_TEST_UTIL_H_
