// Boost is built here with -fno-exceptions: where it would throw, it calls these instead. The
// daemon uses only the error_code overloads of Asio, so reaching one is a bug: log and abort.
#include <boost/assert/source_location.hpp>
#include <boost/throw_exception.hpp>
#include <cstdlib>
#include <exception>

#include "daemon/log.h"

namespace boost {

void throw_exception(const std::exception& e) {
  shixin::LogError("fatal: Boost raised an exception: %s", e.what());
  std::abort();
}

void throw_exception(const std::exception& e, const boost::source_location& location) {
  shixin::LogError("fatal: Boost raised an exception at %s:%d: %s", location.file_name(),
                   location.line(), e.what());
  std::abort();
}

}  // namespace boost
