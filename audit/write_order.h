// The order in which the audit's records were written, for choosing the latest of several (a
// correction of feedback replaces what it corrects: the report and the notice use the latest).
// A stream's sequence numbers are the order of its writes; its times follow the host's clock,
// which may be set back (an NTP step, a VM restored), so a record written later may carry an
// earlier time. Within a stream the sequence decides; across streams only times can: a record's
// time counts as no earlier than that of any record before it in its stream, then the stream
// number and the sequence break ties. That is one total order, the same whichever stream is
// read first.
//
// Thread safety: WriteOrder is a plain value; a WriteOrderer is used by one thread at a time.
#ifndef SHIXIN_AUDIT_WRITE_ORDER_H_
#define SHIXIN_AUDIT_WRITE_ORDER_H_

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <vector>

#include "audit/format.h"
#include "audit/reader.h"

namespace shixin::audit {

struct WriteOrder {
  // The record's time, or the latest time of the records before it in its stream if later.
  int64_t time_micros = 0;
  uint32_t stream = 0;
  uint64_t sequence = 0;

  friend auto operator<=>(const WriteOrder&, const WriteOrder&) = default;
};

// Gives each record of an audit its WriteOrder while it is read.
class WriteOrderer {
 public:
  // Returns the order of the record of `segment` with `sequence` and `time_micros`.
  // REQUIRES: called for every record read (ForEachRecord's visits, whatever the visitor keeps),
  // each stream's in the order of their sequence numbers.
  WriteOrder Next(uint32_t segment, uint64_t sequence, int64_t time_micros) {
    const uint32_t stream = StreamOf(segment);
    if (stream >= latest_.size()) latest_.resize(stream + 1, kNone);
    int64_t& latest = latest_[stream];
    latest = std::max(latest, time_micros);
    return WriteOrder{latest, stream, sequence};
  }
  WriteOrder Next(const Entry& entry) {
    return entry.type == RecordType::kQuery
               ? Next(entry.segment, entry.query.sequence, entry.query.time_micros)
               : Next(entry.segment, entry.feedback.sequence, entry.feedback.time_micros);
  }

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> latest_;  // by stream: the latest time read so far
};

}  // namespace shixin::audit

#endif  // SHIXIN_AUDIT_WRITE_ORDER_H_
