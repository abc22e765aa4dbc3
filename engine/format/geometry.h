// Values derived from a validated header: table sizes, entry widths, descriptor splits.
#pragma once

#include <cstdint>

#include "engine/format/header.h"

namespace qcow2 {

struct Geometry {
  uint32_t cluster_bits = 16;
  uint64_t cluster_size = 65536;
  bool extended_l2 = false;
  bool external_data = false;
  uint32_t l2_entry_bytes = 8;   // 16 with extended L2
  uint64_t l2_entries = 8192;    // entries per L2 table
  uint32_t l2_bits = 13;         // log2(l2_entries)
  uint64_t subcluster_size = 0;  // cluster_size / 32 with extended L2, else cluster_size
  uint32_t refcount_order = 4;
  uint32_t refcount_bits = 16;
  uint64_t refblock_entries = 32768;  // refcounts per refcount block
  uint32_t refblock_bits = 15;        // log2(refblock_entries)
  // Compressed descriptor split: bits 0..csize_shift-1 hold the host byte offset.
  uint32_t csize_shift = 54;
  uint64_t csize_mask = 0xff;             // additional-sector count, after shifting
  uint64_t cluster_offset_mask = 0;       // (1 << csize_shift) - 1
  uint64_t l1_entries_needed = 0;         // L1 entries that map the virtual size
  uint64_t guest_bytes_per_l1_entry = 0;  // l2_entries * cluster_size

  uint64_t guest_offset(uint64_t l1_index, uint64_t l2_index) const {
    return ((l1_index << l2_bits) + l2_index) << cluster_bits;
  }
  uint64_t cluster_index(uint64_t host_offset) const { return host_offset >> cluster_bits; }
};

// Requires cluster_bits in 9..21 and refcount_order in 0..6 (validate_header's fatal checks).
Geometry make_geometry(const Header& h);

}  // namespace qcow2
