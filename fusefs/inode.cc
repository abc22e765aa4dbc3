#include "fusefs/inode.h"

namespace qcow2fs {

uint64_t ino_of(const Node& n) {
  if (n.kind == Kind::kRoot) return 1;  // FUSE_ROOT_ID
  return (uint64_t{static_cast<uint8_t>(n.kind)} << 56) | (uint64_t{n.snap & kMaxSnapSlot} << 36) |
         (n.index & kMaxIndex);
}

std::optional<Node> node_of(uint64_t ino) {
  if (ino == 1) return Node{};
  const auto kind = static_cast<uint8_t>(ino >> 56);
  if (kind <= static_cast<uint8_t>(Kind::kRoot) || kind > static_cast<uint8_t>(Kind::kLast))
    return std::nullopt;
  return Node{static_cast<Kind>(kind), static_cast<uint32_t>((ino >> 36) & kMaxSnapSlot),
              ino & kMaxIndex};
}

}  // namespace qcow2fs
