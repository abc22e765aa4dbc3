// Walks an L1 table and the L2 tables it points to, handing each decoded entry to a visitor.
// Bad pointers are reported, never followed: an L2 table is read only when its offset is
// cluster-aligned, the whole cluster lies inside the file, and no other structure owns it.
// An L2 table that several pointers share is walked once per output: the later pointers say
// which one showed it (so a table named by a million L1 entries costs one table, not a million).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "engine/format/claims.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/io/image.h"

namespace qcow2 {

// The L2 tables one output has shown already, and under which L1 entry.
struct FirstShown {
  std::string table;      // the L1 table's title ("Active Snapshot", "snapshot 1")
  uint64_t l1_index = 0;
};
struct ShownTables {
  std::unordered_map<uint64_t, FirstShown> first;  // L2 offset -> the pointer it was shown for
  // L2 offset -> how many pointers of the whole output name it (counted before the walk, so
  // the first showing can say how many more there are); empty when not counted.
  std::unordered_map<uint64_t, uint64_t> pointers;
  // Counts the L2 pointers of one L1 table into `pointers`.
  void count(std::span<const uint64_t> l1);
};

struct L1Visit {
  uint64_t l1_index = 0;
  uint64_t entry_offset = 0;  // file offset of the 8-byte L1 entry
  L1Entry entry;
  // Why the L2 table was not walked; empty when it was (or the entry is unused).
  std::string skipped;
  // Set when the table was walked already for an earlier pointer of this output.
  std::optional<FirstShown> same_as;
  // For the first showing: how many pointers of this output name the table (0: not counted).
  uint64_t pointers = 0;
};

struct L2Visit {
  uint64_t l1_index = 0;
  uint64_t l2_index = 0;
  uint64_t table_offset = 0;  // file offset of the L2 table
  uint64_t entry_offset = 0;  // file offset of this entry
  uint64_t guest_offset = 0;  // the guest byte address the entry maps
  L2Entry entry;
};

class TableVisitor {
 public:
  virtual ~TableVisitor() = default;
  // Every L1 entry, used or not, before its L2 entries.
  virtual void on_l1(const L1Visit& v) {}
  // Every entry of every walked L2 table, unallocated ones included.
  virtual void on_l2(const L2Visit& v) {}
  // After the last entry of a walked L2 table.
  virtual void on_l2_done(const L1Visit& v) {}
};

// Why an L2 pointer must not be followed, or empty when it may be: unaligned, past the end of
// the file, or into a structure of `claims` (the header-rooted ones, or a check layout's).
std::string l2_pointer_problem(const L1Entry& e, const Geometry& g, uint64_t file_size, const ClaimMap& claims);

// Walks `l1` (entries already decoded from big-endian), whose table starts at `l1_offset` and
// is called `title`. `claims` defaults to the image's header-rooted structures; `shown`, when
// given, is shared by the walks of one output. Fails only when an L2 read fails for a reason
// other than the pointer itself.
Status walk_tables(const Image& img, std::string_view title, uint64_t l1_offset, std::span<const uint64_t> l1,
                   TableVisitor& visitor, const ClaimMap* claims = nullptr, ShownTables* shown = nullptr);

}  // namespace qcow2
