// ListView: one generation of the list as queries read it, the immutable base snapshot with the
// overlay of the deltas applied since (core/overlay.h), or the base alone. A subject is a
// SubjectRef: its base entity, its overlay state, or both (the state then supersedes the
// entity).
//
// Thread safety: a ListView only reads immutable data; it is a pair of pointers, valid while
// the snapshot and the overlay are.
#ifndef SHIXIN_CORE_LIST_H_
#define SHIXIN_CORE_LIST_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "core/id.h"
#include "core/overlay.h"
#include "core/snapshot.h"
#include "core/validity.h"

namespace shixin {

// A subject of one generation. Compare with ==; found() is false for an unknown ID.
struct SubjectRef {
  EntityNo base = kNoEntity;               // its base entity, or kNoEntity
  const OverlayEntity* changed = nullptr;  // its state since the base, or null (unchanged)

  bool found() const { return base != kNoEntity || changed != nullptr; }
  bool operator==(const SubjectRef&) const = default;
};

// A role between two subjects.
struct RoleLink {
  SubjectRef other;
  Role role;
};

class ListView {
 public:
  // REQUIRES: `overlay` (may be null) was made over `base`. Implicit: a snapshot alone is a
  // list (the base without deltas).
  // NOLINTNEXTLINE(google-explicit-constructor)
  ListView(const Snapshot& base, const Overlay* overlay = nullptr)
      : base_(base), overlay_(overlay) {}

  // Returns the subject with this ID, an organisation under either of its codes as
  // Snapshot::Find() (the deltas' subjects too: Overlay::FindNamed()); !found() if the list
  // never knew it.
  SubjectRef Find(const Id& id) const;
  // out[i] = Find(ids[i]), looked up in a batch. REQUIRES: out.size() == ids.size().
  void FindBatch(std::span<const Id> ids, std::span<SubjectRef> out,
                 std::span<EntityNo> scratch) const;

  // Prefetches what answering about `found` reads beyond the entity line FindBatch verified
  // (names, links, the entities of the organisations a person's links name), so that an answer
  // loop over them waits on no miss after the first.
  void PrefetchAnswers(std::span<const SubjectRef> found) const;

  // REQUIRES for these: s.found().
  Id SubjectId(SubjectRef s) const;
  SubjectKind Kind(SubjectRef s) const {
    return s.changed != nullptr ? s.changed->id().subject_kind() : base_.EntityKind(s.base);
  }
  std::string_view Name(SubjectRef s) const;
  // Returns the stretch of listing that holds `t`, or nullopt if `s` is not listed at `t`. A
  // stretch begun before 1970 starts at 0 ("since ever"), with or without an overlay.
  std::optional<Interval> ListingAt(SubjectRef s, int64_t t) const;
  bool IsListed(SubjectRef s, int64_t t) const;
  // Returns whether some subject is listed at `t`, leaving out those `skip` returns true for:
  // the base's subjects in its order, then those the deltas brought; the first listed ends the
  // scan (a list that is not empty answers at once, an empty one reads every subject).
  bool AnyListed(int64_t t, absl::FunctionRef<bool(SubjectRef)> skip) const;
  bool AnyListed(int64_t t) const {
    return AnyListed(t, [](SubjectRef) { return false; });
  }
  // A person holding, at `t`, a role in an organisation listed at `t`.
  bool IsRelated(SubjectRef s, int64_t t) const;
  // Returns the case records of `s`, every version, counting at some time or not.
  uint32_t CaseCount(SubjectRef s) const;
  // Returns every case version of `s`, as views valid until `buffer` is used again or
  // destroyed (and, for a changed subject, while the overlay lives). Returns the base's
  // DataLoss as Snapshot::ReadCases() does.
  absl::StatusOr<std::span<const CaseView>> ReadCases(SubjectRef s, CaseBuffer& buffer) const;
  // Calls f(RoleLink) for each role of `s` that holds at `t`, in the base's order (a changed
  // subject: the order of its state).
  template <typename F>
  void ForEachRole(SubjectRef s, int64_t t, F&& f) const;
  // Calls f(const Id& other, Role role, Interval valid) for every role of `s`, whenever it
  // holds (compaction folds them all).
  template <typename F>
  void ForEachLink(SubjectRef s, F&& f) const;

  const Snapshot& base() const { return base_; }
  const Overlay* overlay() const { return overlay_; }

 private:
  // Returns the ref of base entity `e`, with its overlay state if it has one.
  SubjectRef FromBase(EntityNo e) const;

  const Snapshot& base_;
  const Overlay* overlay_;
};

template <typename F>
void ListView::ForEachRole(SubjectRef s, int64_t t, F&& f) const {
  if (s.changed != nullptr) {
    for (const OverlayLink& l : s.changed->links()) {
      if (l.valid.Contains(t)) f(RoleLink{Find(Id::Unpack(l.other)), l.role});
    }
    return;
  }
  for (uint32_t i = 0; i < base_.LinkCount(s.base); ++i) {
    if (!base_.LinkValid(s.base, i).Contains(t)) continue;
    const LinkView link = base_.Link(s.base, i);
    f(RoleLink{FromBase(link.other), link.role});
  }
}

template <typename F>
void ListView::ForEachLink(SubjectRef s, F&& f) const {
  if (s.changed != nullptr) {
    for (const OverlayLink& l : s.changed->links()) f(Id::Unpack(l.other), l.role, l.valid);
    return;
  }
  for (uint32_t i = 0; i < base_.LinkCount(s.base); ++i) {
    const LinkView link = base_.Link(s.base, i);
    f(base_.EntityId(link.other), link.role, base_.LinkValid(s.base, i));
  }
}

}  // namespace shixin

#endif  // SHIXIN_CORE_LIST_H_
