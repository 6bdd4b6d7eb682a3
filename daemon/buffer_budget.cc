#include "daemon/buffer_budget.h"

#include <algorithm>

namespace shixin {

BufferBudget::BufferBudget(uint64_t limit, uint32_t max_connections)
    : limit_(limit), fair_share_(std::max(kMinFairShare, limit / std::max(max_connections, 1u))) {}

}  // namespace shixin
