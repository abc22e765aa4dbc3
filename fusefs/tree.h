// The tree model: which nodes exist, their names, and their place in listings. It only asks
// the engine; what it keeps is what the image itself bounds (the active L1 table, at most
// 32 MiB; the refcount table, at most 8 MiB; one name per snapshot), never anything per
// listed node, so `ls l2` on an image with millions of L2 tables costs nothing to remember.
// Both tables are read when first needed, not at mount: `cat header` must not wait for them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/check/layout.h"
#include "engine/io/image.h"
#include "fusefs/inode.h"
#include "fusefs/snapshot_names.h"

namespace qcow2fs {

// Receives one child of a listing; returns false when the caller's buffer is full (the child
// was not taken and will be offered again from `pos`).
using Emit = std::function<bool(std::string_view name, const Node& node, uint64_t next_pos)>;

class Tree {
 public:
  // `controls`: the tree of a read-write mount, whose ctl/ holds the control files
  // (ctl_files.h) beside README.
  explicit Tree(std::unique_ptr<qcow2::Image> img, bool controls = false);

  const qcow2::Image& image() const { return *img_; }
  bool controls() const { return controls_; }

  static bool is_dir(const Node& n);
  bool exists(const Node& n) const;
  Node parent(const Node& n) const;
  // The name `n` has in its parent's listing ("" for the root and for a node of no listing).
  // Reads nothing from the image.
  std::string name_of(const Node& n) const;
  std::optional<Node> lookup(const Node& dir, std::string_view name) const;
  // Children of `dir` in a fixed order, starting at position `pos` (0 = the first child).
  // Positions are stable cookies: an L1 index in l2/, a table index in refcount/.
  void list(const Node& dir, uint64_t pos, const Emit& emit) const;

  // The snapshot in slot `snap` (1-based), or null.
  const qcow2::Snapshot* snapshot(uint32_t snap) const;
  const std::string& snapshot_dir_name(uint32_t snap) const { return snap_names_[snap - 1].name; }
  const std::string& snapshot_name_note(uint32_t snap) const { return snap_names_[snap - 1].note; }
  // Why snapshot `snap`'s L1 table cannot be read (the check's verdict), or empty.
  std::string snapshot_l1_problem(uint32_t snap) const;
  // The tables as the check judges them; null when the image cannot be walked or read.
  const qcow2::Layout* layout() const;
  // Why the snapshot table is damaged or unread; empty when it is fine.
  const std::string& snapshots_error() const { return snapshots_error_; }

  // The L1 table of slot `snap` (0 = active), its file offset, and why it cannot be read.
  uint64_t l1_offset(uint32_t snap) const;
  qcow2::Result<std::vector<uint64_t>> l1_table(uint32_t snap) const;
  qcow2::Result<std::vector<uint64_t>> l1_slice(uint32_t snap, uint64_t first, uint64_t count) const;
  uint64_t l1_size(uint32_t snap) const;
  const qcow2::Result<std::vector<uint64_t>>& refcount_table() const;

  // An L2 table named by several L1 entries (a snapshot's unchanged tables, or damage) is shown
  // once, as the l2 file of the first pointer: the active L1 first, then the snapshots in table
  // order, each by index. The other pointers' l2 files are symbolic links to it; this is the
  // link's target, relative to the link's directory, or empty for the first pointer itself.
  std::string l2_link(uint32_t snap, uint64_t index) const;
  bool is_link(const Node& n) const { return n.kind == Kind::kL2 && !l2_link(n.snap, n.index).empty(); }

 private:
  void name_snapshots();
  bool l2_exists(uint32_t snap, uint64_t index) const;
  void list_l2(uint32_t snap, uint64_t pos, const Emit& emit) const;
  const qcow2::Result<std::vector<uint64_t>>& active_l1() const;
  struct Pointer {
    uint32_t snap;
    uint64_t index;
  };
  // L2 offset -> its first pointer; built on first use from the layout's decoded L1 tables.
  const std::unordered_map<uint64_t, Pointer>& first_l2_pointers() const;

  // Tables read once, on first use, by whichever request thread comes first.
  template <class T>
  struct Lazy {
    std::once_flag once;
    std::optional<T> value;
  };

  std::unique_ptr<qcow2::Image> img_;
  const bool controls_;
  mutable Lazy<qcow2::Result<std::vector<uint64_t>>> active_l1_;
  mutable Lazy<qcow2::Result<std::vector<uint64_t>>> reftable_;
  mutable Lazy<qcow2::Result<qcow2::Layout>> layout_;
  mutable Lazy<std::unordered_map<uint64_t, Pointer>> first_l2_;
  std::vector<SnapshotName> snap_names_;
  std::unordered_map<std::string, uint32_t> snap_by_name_;
  std::string snapshots_error_;
};

}  // namespace qcow2fs
