// What Handler::LookAhead() (issue 14) leaves for the Handle() calls of the same turn: the
// CHECK frames whose IDs it parsed and looked up, so that answering them parses and looks up
// nothing again. Internal to the handler (daemon/check_lookahead.cc, daemon/handler_queries.cc).
//
// Thread safety: one per thread (ThreadLookedAhead()); a connection's turn runs on one thread
// from its LookAhead() to the Handle() of the frames it covered.
#ifndef SHIXIN_DAEMON_CHECK_LOOKAHEAD_H_
#define SHIXIN_DAEMON_CHECK_LOOKAHEAD_H_

#include <xxhash.h>

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "core/id.h"
#include "core/list.h"
#include "daemon/handler.h"

namespace shixin {

class LookedAhead {
 public:
  // One CHECK frame whose IDs all parsed: ids()/found() [first, first + count).
  struct Frame {
    const char* payload;  // where its payload was in the connection's input
    size_t size;
    uint64_t hash;  // XXH3 of the payload: the bytes there now must be the same
    uint32_t first;
    uint32_t count;
  };

  // Forgets everything (a new look-ahead starts, or nothing may be reused).
  void Clear() {
    session_ = nullptr;
    frames_.clear();
    ids_.clear();
    next_ = 0;
  }
  // Starts the frames of `session`'s turn, parsed on `today` and looked up in `generation`.
  void Start(const Session& session, uint32_t generation, absl::CivilDay today) {
    Clear();
    session_ = &session;
    generation_ = generation;
    today_ = today;
  }
  // Adds a frame whose IDs were appended to ids() since `first`.
  void AddFrame(std::string_view payload, uint32_t first) {
    frames_.push_back({payload.data(), payload.size(), XXH3_64bits(payload.data(), payload.size()),
                       first, static_cast<uint32_t>(ids_.size()) - first});
  }

  std::vector<Id>& ids() { return ids_; }
  std::vector<SubjectRef>& found() { return found_; }
  std::vector<EntityNo>& base() { return base_; }

  // Returns the frame of `payload` if this turn of `session` looked it up in `generation` on
  // `today`, at the same place with the same bytes (frames before it are skipped: Handle()
  // refused them before their IDs), else null.
  const Frame* Take(const Session& session, std::string_view payload, uint32_t generation,
                    absl::CivilDay today) {
    if (&session != session_ || generation != generation_ || today != today_) return nullptr;
    // std::less: the payload may be in another buffer, where `<` on pointers is unspecified.
    while (next_ < frames_.size() && std::less<>()(frames_[next_].payload, payload.data())) {
      ++next_;
    }
    if (next_ == frames_.size() || frames_[next_].payload != payload.data() ||
        frames_[next_].size != payload.size() ||
        frames_[next_].hash != XXH3_64bits(payload.data(), payload.size())) {
      return nullptr;
    }
    return &frames_[next_++];
  }

 private:
  const Session* session_ = nullptr;  // null: empty
  uint32_t generation_ = 0;
  absl::CivilDay today_;
  std::vector<Frame> frames_;
  size_t next_ = 0;  // frames before it were taken or skipped
  std::vector<Id> ids_;
  std::vector<SubjectRef> found_;
  std::vector<EntityNo> base_;
};

// Returns this thread's LookedAhead.
LookedAhead& ThreadLookedAhead();

}  // namespace shixin

#endif  // SHIXIN_DAEMON_CHECK_LOOKAHEAD_H_
