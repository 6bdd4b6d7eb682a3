// Handler::LookAhead (issue 14): the pipelined CHECK requests of one read looked up together.
// Handle() answers each frame on its own, with all its per-request rules (authentication,
// quotas, audit, metrics); looking the IDs up first through the prefetch pipeline leaves it
// nothing to wait for. Only the cache is changed, so a snapshot swapped in between, a frame
// refused later or an ID that fails to parse cost time, never a wrong answer.
#include <vector>

#include "core/list.h"
#include "daemon/handler.h"
#include "protocol/messages.h"

namespace shixin {
namespace {

struct LookAheadScratch {
  wire::CheckRequestView request;
  std::vector<Id> ids;
  std::vector<SubjectRef> found;
  std::vector<EntityNo> base;
};

// Returns the bytes of the complete CHECK frames at the front of `input` (at most `max_ids`
// IDs by their counts) and, in `*frames`, how many.
size_t CheckFrames(std::string_view input, uint32_t max_payload, uint8_t version, size_t max_ids,
                   size_t* frames) {
  size_t covered = 0;
  size_t ids = 0;
  *frames = 0;
  while (!input.empty() && ids < max_ids) {
    const wire::Decoded frame = wire::DecodeFrame(input, max_payload, version);
    if (frame.result != wire::DecodeResult::kComplete ||
        frame.header.opcode != static_cast<uint8_t>(wire::Opcode::kCheck)) {
      break;
    }
    ids += wire::PeekCheckCount(frame.payload);
    covered += frame.consumed;
    input.remove_prefix(frame.consumed);
    ++*frames;
  }
  return covered;
}

}  // namespace

size_t Handler::LookAhead(std::string_view input, uint8_t version) const {
  size_t frames = 0;
  const size_t covered = CheckFrames(input, config_.max_payload, version, kLookAheadIds, &frames);
  if (frames < 2) return covered;  // one frame's IDs are looked up together by Handle() itself
  thread_local LookAheadScratch s;
  s.ids.clear();
  const absl::CivilDay today = UtcDayAt(clock_());
  for (std::string_view rest = input.substr(0, covered); !rest.empty();) {
    const wire::Decoded frame = wire::DecodeFrame(rest, config_.max_payload, version);
    rest.remove_prefix(frame.consumed);
    if (!wire::DecodeCheckRequest(frame.payload, version, &s.request).ok()) continue;
    for (std::string_view text : s.request.ids) {
      absl::StatusOr<Id> id = ParseId(text, today);
      if (id.ok()) s.ids.push_back(*id);
    }
  }
  if (s.ids.size() < 2) return covered;
  SnapshotHolder::ReadSection read(*holder_);
  const Dataset* d = read.dataset();
  if (d == nullptr) return covered;
  const ListView list = d->list();
  s.found.resize(s.ids.size());
  s.base.resize(s.ids.size());
  list.FindBatch(s.ids, s.found, s.base);
  list.PrefetchAnswers(s.found);
  return covered;
}

}  // namespace shixin
