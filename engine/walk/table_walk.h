// Walks an L1 table and the L2 tables it points to, handing each decoded entry to a visitor.
// Bad pointers are reported, never followed: an L2 table is read only when its offset is
// cluster-aligned and the whole cluster lies inside the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/io/image.h"

namespace qcow2 {

struct L1Visit {
  uint64_t l1_index = 0;
  uint64_t entry_offset = 0;  // file offset of the 8-byte L1 entry
  L1Entry entry;
  // Why the L2 table was not walked; empty when it was (or the entry is unused).
  std::string skipped;
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

// Why an L2 pointer must not be followed, or empty when it may be.
std::string l2_pointer_problem(const L1Entry& e, const Geometry& g, uint64_t file_size);

// Walks `l1` (entries already decoded from big-endian), whose table starts at `l1_offset`.
// Fails only when an L2 read fails for a reason other than the pointer itself.
Status walk_tables(const Image& img, uint64_t l1_offset, std::span<const uint64_t> l1,
                   TableVisitor& visitor);

}  // namespace qcow2
