// The starting states, from the base alone, of the subjects one delta names: built by
// PrepareDelta(), on any thread (the base is immutable), ahead of the delta's application or
// alongside it, so that OverlayBuilder::Apply() need not read the base's cases in its ordered,
// single-threaded part. A state the application does not use (its subject changed by an
// earlier delta of the batch, or the delta refused) is dropped; the result is the same as
// without it.
//
// Thread safety: handed from the thread that made it to the one applying the delta; while
// states are built alongside, that thread and the helpers meet only through atomics.
#ifndef SHIXIN_CORE_PREPARED_DELTA_H_
#define SHIXIN_CORE_PREPARED_DELTA_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/snapshot.h"

namespace shixin {

class Overlay;
struct EntityDraft;
class ChangedEntities;

// When PrepareDelta() builds the states.
enum class Prepare {
  kAhead,      // all of them before it returns
  kAlongside,  // on helpers while the application runs, which builds those it reaches first
};

class PreparedDelta {
 public:
  PreparedDelta();
  ~PreparedDelta();  // waits for the helpers of Prepare::kAlongside
  PreparedDelta(PreparedDelta&&) noexcept;
  PreparedDelta& operator=(PreparedDelta&&) noexcept;

  // Returns how many states it holds (not yet spent by an application). REQUIRES: no helper
  // is building (Prepare::kAhead, or after the application).
  size_t size() const;

 private:
  friend class OverlayBuilder;
  friend class OverlayApplier;
  friend class ChangedEntities;
  friend PreparedDelta PrepareDelta(const Snapshot& base, const Overlay* previous,
                                    const Delta& delta, const ChangedEntities* changed, int threads,
                                    Prepare when);
  // A named subject: its base entity, its canonical key, its base state (null: not built), and
  // its place in the list of states to build (kNotBuilt: none is).
  static constexpr uint32_t kNotBuilt = ~uint32_t{0};
  struct Named {
    EntityNo base = kNoEntity;
    PackedId key;
    std::unique_ptr<EntityDraft> draft;
    uint32_t slot = kNotBuilt;
  };
  struct States;
  // Returns the subject `id` names, or null if it was not prepared.
  Named* Lookup(const Id& id);
  // Returns the state of `named` (its ID `id`) for the application: built ahead or alongside,
  // or else read from the base now, together with the states after it that nobody has begun
  // (the application does not wait for a helper). Returns the error of reading its cases.
  absl::StatusOr<std::unique_ptr<EntityDraft>> Take(const Snapshot& base, Named& named,
                                                    const Id& id);
  // Stops the helpers and waits for them. Afterwards nothing but the caller touches the states.
  void Join();
  std::unique_ptr<States> states_;
};

// The base entities a batch has given a state so far: marked by the thread applying the deltas,
// read by those preparing the next ones, which need not build a state the table holds.
//
// Thread safety: thread-safe (relaxed atomics: a bit seen late costs only a wasted state).
class ChangedEntities {
 public:
  explicit ChangedEntities(size_t entity_count) : bits_((entity_count + 63) / 64) {}
  // Whether base entity `e` was marked.
  bool Has(EntityNo e) const {
    return e / 64 < bits_.size() &&
           (bits_[e / 64].load(std::memory_order_relaxed) >> (e % 64) & 1) != 0;
  }
  // Marks the base entities of the subjects `applied` names. REQUIRES: its delta was accepted
  // by the builder whose overlays the preparing threads start from.
  void Add(const PreparedDelta& applied);

 private:
  std::vector<std::atomic<uint64_t>> bits_;
};

// Returns the base states of the subjects `delta` names, except those `previous` (may be null)
// has a state for and the base entities `changed` (may be null) has marked. A subject whose
// cases cannot be read is left out: the application reads it again and reports the error.
// kAhead builds them on up to `threads` threads before it returns: the caller's, and helpers
// it starts at nice 10, which take idle cores only (the queries of a busy machine keep their
// cores). kAlongside returns once the subjects are named and leaves the states to `threads` - 1
// helpers at nice 10 and to the application, which it should follow at once: on an idle
// machine the file's preparation and application then share the cores instead of taking
// turns. The result is the same for any number and either way. Requires `base` to be
// immutable until the states are built, `previous` until it returns.
PreparedDelta PrepareDelta(const Snapshot& base, const Overlay* previous, const Delta& delta,
                           const ChangedEntities* changed = nullptr, int threads = 1,
                           Prepare when = Prepare::kAhead);

}  // namespace shixin

#endif  // SHIXIN_CORE_PREPARED_DELTA_H_
