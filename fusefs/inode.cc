#include "fusefs/inode.h"

namespace qcow2fs {
namespace {

constexpr int kIndexBits = 25;
constexpr int kSnapShift = kIndexBits;
constexpr int kGenShift = kSnapShift + 17;
constexpr int kKindShift = kGenShift + 16;

}  // namespace

uint64_t ino_of(const Node& n, uint32_t gen) {
  if (n.kind == Kind::kRoot) return 1;  // FUSE_ROOT_ID
  return (uint64_t{static_cast<uint8_t>(n.kind)} << kKindShift) |
         (uint64_t{gen % kGenerations} << kGenShift) | (uint64_t{n.snap & kMaxSnapSlot} << kSnapShift) |
         (n.index & kMaxIndex);
}

std::optional<InodeName> node_of(uint64_t ino) {
  if (ino == 1) return InodeName{};
  const auto kind = static_cast<uint8_t>(ino >> kKindShift);
  if (kind <= static_cast<uint8_t>(Kind::kRoot) || kind > static_cast<uint8_t>(Kind::kLast))
    return std::nullopt;
  const Node n{static_cast<Kind>(kind), static_cast<uint32_t>((ino >> kSnapShift) & kMaxSnapSlot),
               ino & kMaxIndex};
  return InodeName{n, static_cast<uint32_t>((ino >> kGenShift) % kGenerations)};
}

}  // namespace qcow2fs
