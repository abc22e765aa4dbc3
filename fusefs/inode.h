// Inode numbers computed from what a node is, so the tree needs no per-node table however many
// L2 tables an image has. From the top: kind (6 bits), the generation of the view that made the
// number (16 bits), snapshot slot (17 bits: 0 = the active image, n + 1 = snapshot table entry
// n; QEMU allows 65536 snapshots) and an index (25 bits: an L1 index, a refcount table index,
// an extension index; a 32 MiB L1 table has 4 Mi entries). The root is FUSE's fixed inode 1 in
// every view.
//
// The generation is why an inode never names two things: when the image changes, the mount
// opens it again as a new view (view.h) whose inodes all differ from the old ones, so a name
// the kernel still caches (snapshots/1 of a snapshot since deleted and replaced) reaches the
// old view's number, which the mount answers with ESTALE, and never the new snapshot's text.
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
  kCtlFile,        // index: a CtlFile (ctl_files.h); read-write mounts only
  kLast = kCtlFile,
};

struct Node {
  Kind kind = Kind::kRoot;
  uint32_t snap = 0;   // 0: the active image; n + 1: snapshot table entry n
  uint64_t index = 0;

  bool operator==(const Node&) const = default;
};

inline constexpr uint32_t kMaxSnapSlot = (1U << 17) - 1;
inline constexpr uint64_t kMaxIndex = (1ULL << 25) - 1;
inline constexpr uint32_t kGenerations = 1U << 16;  // generations wrap around after this many

// What an inode number names: a node of the view with generation `gen` (any view for the root).
struct InodeName {
  Node node;
  uint32_t gen = 0;
};

// The number of `n` in the view with generation `gen`. Slots and indexes past the limits above
// have no number: the tree never offers such nodes.
uint64_t ino_of(const Node& n, uint32_t gen);

// The node an inode number names, or nothing when no node could have that number.
std::optional<InodeName> node_of(uint64_t ino);

}  // namespace qcow2fs
