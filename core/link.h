// The encoding of a Snapshot's link table (core/snapshot.h), shared by the builder that writes
// it, the Snapshot that reads it and the snapshot file that stores and checks it
// (core/SNAPSHOT_FORMAT.md, section `links`).
//
// A link is one u32: the other entity's number above kLinkRoleBits, its Role below. So an
// entity number has 29 bits, which bounds the number of entities in a snapshot.
//
// Thread safety: constants and pure functions only.
#ifndef SHIXIN_CORE_LINK_H_
#define SHIXIN_CORE_LINK_H_

#include <cstdint>

#include "core/types.h"

namespace shixin {

inline constexpr int kLinkRoleBits = 3;
inline constexpr uint32_t kLinkRoleMask = (1u << kLinkRoleBits) - 1;
static_assert(kRoleCount <= kLinkRoleMask + 1, "every Role fits in a link");

// The most entities a snapshot holds: every entity number fits in a link.
inline constexpr uint32_t kMaxEntities = (1u << (32 - kLinkRoleBits)) - 1;

// Returns the link to entity `other` in `role`. REQUIRES: other <= kMaxEntities.
inline constexpr uint32_t EncodeLink(uint32_t other, Role role) {
  return other << kLinkRoleBits | static_cast<uint32_t>(role);
}

// A link's fields as stored. `role` is unchecked: a built snapshot's roles are valid Roles, a
// snapshot file's are checked when it is opened (role < kRoleCount).
struct DecodedLink {
  uint32_t other;
  uint32_t role;
};

// Returns the fields of `link`.
inline constexpr DecodedLink DecodeLink(uint32_t link) {
  return DecodedLink{link >> kLinkRoleBits, link & kLinkRoleMask};
}

}  // namespace shixin

#endif  // SHIXIN_CORE_LINK_H_
