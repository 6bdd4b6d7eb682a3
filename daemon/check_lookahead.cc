// Handler::LookAhead (issue 14): the pipelined CHECK requests of one read parsed and looked up
// together (and the subjects of its MEASURES requests, only to have their lines in the cache),
// through the prefetch pipeline, so that one read's requests wait on their cache misses at once
// instead of one after the other. Handle() still answers each frame on its own, with all its
// per-request rules (authentication, quotas, audit, metrics), but takes the frame's parsed IDs and
// lookups from LookedAhead when they are of the same session, the same place in the input, the same
// generation and the same day; anything else (a snapshot swapped in between, an ID that fails to
// parse) is answered the long way: it costs time, never a wrong answer.
#include "daemon/check_lookahead.h"

#include <vector>

#include "core/list.h"
#include "daemon/handler.h"
#include "protocol/messages.h"

namespace shixin {

LookedAhead& ThreadLookedAhead() {
  thread_local LookedAhead looked_ahead;
  return looked_ahead;
}

size_t Handler::LookAhead(std::string_view input, const Session& session) const {
  LookedAhead& m = ThreadLookedAhead();
  m.Clear();
  SnapshotHolder::ReadSection read(*holder_);
  const Dataset* d = read.dataset();
  if (d == nullptr) return 0;
  const absl::CivilDay today = UtcDayAt(clock_());
  m.Start(session, d->generation, today);
  thread_local wire::CheckRequestView request;
  size_t covered = 0;
  std::vector<Id>& ids = m.ids();
  // One pass: each complete CHECK or MEASURES frame at the front is decoded and its IDs parsed.
  for (std::string_view rest = input; !rest.empty() && ids.size() < kLookAheadIds;) {
    const wire::Decoded frame = wire::DecodeFrame(rest, config_.max_payload, session.version);
    const bool measures = frame.header.opcode == static_cast<uint8_t>(wire::Opcode::kMeasures);
    if (frame.result != wire::DecodeResult::kComplete ||
        (!measures && frame.header.opcode != static_cast<uint8_t>(wire::Opcode::kCheck))) {
      break;
    }
    covered += frame.consumed;
    rest.remove_prefix(frame.consumed);
    if (measures) {
      // Only looked up, so that its lines are in the cache: Handle() finds it again.
      const std::optional<std::string_view> text = wire::PeekMeasuresId(frame.payload);
      if (!text.has_value()) continue;
      if (absl::StatusOr<Id> id = ParseId(*text, today); id.ok()) ids.push_back(*id);
      continue;
    }
    if (!wire::DecodeCheckRequest(frame.payload, session.version, &request).ok()) continue;
    const auto first = static_cast<uint32_t>(ids.size());
    bool all = true;
    for (std::string_view text : request.ids) {
      absl::StatusOr<Id> id = ParseId(text, today);
      if (id.ok()) {
        ids.push_back(*id);
      } else {
        all = false;
      }
    }
    // A frame with an ID that does not parse is answered the long way (its error message).
    if (all && !request.ids.empty()) m.AddFrame(frame.payload, first);
  }
  if (ids.empty()) {
    m.Clear();
    return covered;
  }
  const ListView list = d->list();
  m.found().resize(ids.size());
  m.base().resize(ids.size());
  list.FindBatch(ids, m.found(), m.base());
  list.PrefetchAnswers(m.found());
  return covered;
}

}  // namespace shixin
