// The image's tables found from the header down, each read and decoded once: the active L1
// table and every distinct snapshot L1 table, the refcount table and the blocks it names, the
// bitmap tables. Each is given its clusters (format/claims.h) only when no structure found
// before owns them; one that would lie in another structure is a cross-link and is neither
// decoded nor counted as a reference. Tables shared by several pointers are decoded once and
// counted by reference (`times`). What the layout holds is bounded by the file: every table in
// it lies inside the file, and no two overlap.
//
// The check, the mount's tree and the dump all judge a table by this one verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/check/finding.h"
#include "engine/format/claims.h"
#include "engine/format/extent.h"
#include "engine/io/image.h"

namespace qcow2 {

// An L1 table to walk: the active one (first), then each distinct snapshot table.
struct L1Table {
  int32_t snapshot = kActive;  // kActive, or the first snapshot whose entry names it
  uint64_t offset = 0;
  uint64_t disk_size = 0;      // guest bytes it maps; entries beyond map VM state
  uint32_t times = 1;          // table entries naming it (the active table: 1)
  std::vector<uint64_t> entries;
  std::string name;            // "active L1", "snapshot 1 L1"
};

// Why a table named by a pointer is not part of the layout (empty when it is).
struct TableVerdict {
  int32_t table = -1;  // the decoded table it shares (index into l1_tables() / bitmap_tables())
  std::string problem;
  bool cross_link = false;  // it lies in another structure
  bool ok() const { return problem.empty(); }
};

// A distinct bitmap table.
struct BitmapTable {
  uint64_t offset = 0;
  uint32_t first_bitmap = 0;  // index of the first bitmap naming it
  uint32_t times = 1;
  std::vector<uint64_t> entries;
};

class Layout {
 public:
  // Fails only on I/O errors; damage becomes findings(). `img` must be walkable and outlive
  // the layout.
  static Result<Layout> build(const Image& img);

  const ClaimMap& claims() const { return claims_; }
  const std::vector<L1Table>& l1_tables() const { return l1_tables_; }
  const L1Table& active_l1() const { return l1_tables_.front(); }
  // Per snapshot table entry (by index): which L1 table it uses, or why none.
  const TableVerdict& snapshot_l1(uint32_t index) const { return snapshot_l1_[index]; }

  // The refcount table as stored, and per entry whether its block is decoded: the blocks of
  // kOk entries are distinct, inside the file and owned by nothing else.
  enum class Block : uint8_t { kUnused, kOk, kReservedBits, kUnaligned, kPastEof, kCrossLink };
  const std::vector<uint64_t>& reftable() const { return reftable_; }
  Block block(uint64_t index) const { return index < blocks_.size() ? blocks_[index] : Block::kUnused; }
  bool block_ok(uint64_t index) const { return block(index) == Block::kOk; }
  // Why entry `index`'s block is not decoded, in a few words; empty when it is.
  std::string block_problem(uint64_t index) const;

  const std::vector<BitmapTable>& bitmap_tables() const { return bitmap_tables_; }
  const TableVerdict& bitmap(uint32_t index) const { return bitmap_[index]; }

  // The structure an L2 table at `offset` (aligned, inside the file) would lie in, or null.
  const Claim* l2_conflict(uint64_t offset) const { return claims_.overlapping(offset, 1); }

  // Clusters two tables claim where neither can be trusted over the other: a refused table
  // that overlaps one found before it at the same depth (a snapshot L1, a refcount block, a
  // bitmap table, an L2 table). The header-rooted structures win their conflicts outright:
  // the header points at them itself. Nothing is ever proposed to be written there, and what
  // the decoded owner seems to say about them is not trusted.
  const std::vector<ClusterSpan>& contested() const { return contested_; }
  // Whether a structure of this role is pointed at by the header itself.
  static bool header_rooted(Role r);

  // The layout's own findings: bad or cross-linked snapshot L1, refcount block and bitmap
  // table pointers, bitmap tables whose size does not fit the disk. At most
  // kMaxFindingsPerCode per code; not_listed() counts the others by code.
  const std::vector<Finding>& findings() const { return findings_; }
  const std::map<std::string, uint64_t>& not_listed() const { return not_listed_; }

 private:
  explicit Layout(const Image& img) : img_(&img), claims_(img.claims()) {}
  Status add_snapshot_l1s();
  void add_refcount_blocks();
  Status add_bitmap_tables();
  void add(Finding f);
  void contest(const Claim& refused, const Claim& owner);

  // Tables named by one or more pointers, by (offset, entries): the indexes of who names each.
  using TableUsers = std::map<std::pair<uint64_t, uint32_t>, std::vector<uint32_t>>;
  struct SharedTable {
    uint64_t offset;
    uint64_t entries;
    const std::vector<uint32_t>* users;  // into the TableUsers given
  };
  using RefusedTable = std::function<void(const std::vector<uint32_t>& users, const Claim& table, const Claim& owner)>;
  // Claims each distinct table of `users` in one batch (thousands of snapshots must not cost a
  // quadratic number of claims); `refused` hears of each that lies in another structure.
  std::vector<SharedTable> claim_tables(const TableUsers& users, Role role, const RefusedTable& refused);

  const Image* img_;
  ClaimMap claims_;
  std::vector<L1Table> l1_tables_;
  std::vector<TableVerdict> snapshot_l1_;
  std::vector<uint64_t> reftable_;
  std::vector<Block> blocks_;
  std::vector<BitmapTable> bitmap_tables_;
  std::vector<TableVerdict> bitmap_;
  std::vector<Finding> findings_;
  std::map<std::string, uint64_t> listed_, not_listed_;
  std::vector<ClusterSpan> contested_;
};

// Entries of a bitmap table for a disk of `disk_size` bytes: one per cluster of bitmap bits.
uint64_t bitmap_table_entries_needed(uint64_t disk_size, uint32_t granularity_bits, uint64_t cluster_size);

}  // namespace qcow2
