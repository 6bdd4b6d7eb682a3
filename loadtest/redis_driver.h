// The Redis side of the load tool: the same workload over RESP2 against a Redis server that
// holds key = normalised ID, value = a ~100-byte summary of the listed subject (name, kind,
// case count, latest case number and court). A single-ID CHECK is EXISTS, a batch is MGET
// (a hit is a non-nil value), a MEASURES is GET. Redis holds only listed subjects, so a related
// person is expected to be absent, like a miss.
//
// Loading and refreshing stream DIR/debtors.ndjson and push pipelined SETs (cases of one
// subject are consecutive in the generated files; a subject whose cases are scattered is SET
// once per run of consecutive cases, the last run winning).
//
// Thread safety: a codec belongs to one connection; the load functions use their own
// connection and may run beside the load.
#ifndef SHIXIN_LOADTEST_REDIS_DRIVER_H_
#define SHIXIN_LOADTEST_REDIS_DRIVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "loadtest/driver.h"

namespace shixin::loadtest {

std::unique_ptr<Codec> MakeRedisCodec();

struct RedisLoadStats {
  uint64_t keys = 0;
  double seconds = 0;
  uint64_t used_memory = 0;  // INFO memory used_memory after the load
};

// SETs every listed subject of `data_dir` into database 0.
absl::StatusOr<RedisLoadStats> RedisLoad(const std::string& address, const std::string& data_dir);

// How the whole data set is replaced during a run.
enum class RedisRefresh {
  // Load into db 1, SWAPDB 0 1, FLUSHDB ASYNC the old data: no wrong answers, twice the memory
  // while it runs. The fastest correct way Redis has.
  kSwapDb,
  // FLUSHALL ASYNC, then load into db 0: readers see a partial list until the load ends.
  kFlushAll,
};

// Replaces the data set (the window of `swaps` spans the whole refresh).
absl::Status RedisReplace(const std::string& address, const std::string& data_dir,
                          RedisRefresh mode, SwapTracker* swaps);

}  // namespace shixin::loadtest

#endif  // SHIXIN_LOADTEST_REDIS_DRIVER_H_
