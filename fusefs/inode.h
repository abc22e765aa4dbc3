// Inode numbers computed from what a node is, so the tree needs no per-node table however many
// L2 tables an image has: kind in the top 8 bits, snapshot slot in the next 20 (0 = the active
// image, n + 1 = snapshot table entry n), and an index in the low 36 (an L1 index, a refcount
// table index, an extension index). The root is FUSE's fixed inode 1.
#pragma once

#include <cstdint>
#include <optional>

namespace qcow2fs {

enum class Kind : uint8_t {
  kRoot = 1,
  kHeader,
  kFeatures,
  kExtensionsDir,
  kExtension,      // index: position in the extension area
  kSnapshotsDir,
  kSnapshotsError,
  kSnapshotDir,    // snap: slot
  kSnapshotInfo,
  kL1,             // snap: 0 active, else slot
  kL2Dir,
  kL2,             // index: L1 index
  kL2Error,        // in an l2/ directory whose L1 table cannot be read
  kRefcountDir,
  kRefTable,
  kRefBlock,       // index: refcount table index
  kMap,
  kClusters,
  kReportTxt,
  kReportJson,
  kStatus,
  kCtlDir,
  kCtlReadme,
  kLast = kCtlReadme,
};

struct Node {
  Kind kind = Kind::kRoot;
  uint32_t snap = 0;   // 0: the active image; n + 1: snapshot table entry n
  uint64_t index = 0;

  bool operator==(const Node&) const = default;
};

inline constexpr uint32_t kMaxSnapSlot = (1U << 20) - 1;
inline constexpr uint64_t kMaxIndex = (1ULL << 36) - 1;

uint64_t ino_of(const Node& n);

// The node an inode number names, or nothing when no node could have that number.
std::optional<Node> node_of(uint64_t ino);

}  // namespace qcow2fs
