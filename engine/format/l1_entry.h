// L1 and refcount-table entries: an offset of a cluster-sized table plus flag and reserved bits.
#pragma once

#include <cstdint>

#include "engine/format/geometry.h"

namespace qcow2 {

inline constexpr uint64_t kEntryCopied = 1ULL << 63;
inline constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ULL;  // bits 9..55
inline constexpr uint64_t kL1ReservedMask = 0x7f000000000001ffULL;
inline constexpr uint64_t kRefTableReservedMask = 0x1ffULL;

struct L1Entry {
  uint64_t raw = 0;
  uint64_t l2_offset = 0;  // bits 9..55
  bool copied = false;
  uint64_t reserved = 0;   // reserved bits that are set
  bool unaligned = false;  // l2_offset is not a multiple of the cluster size
  bool used() const { return l2_offset != 0; }
};

inline L1Entry decode_l1_entry(uint64_t raw, const Geometry& g) {
  L1Entry e;
  e.raw = raw;
  e.l2_offset = raw & kOffsetMask;
  e.copied = raw & kEntryCopied;
  e.reserved = raw & kL1ReservedMask;
  e.unaligned = (e.l2_offset & (g.cluster_size - 1)) != 0;
  return e;
}

struct RefTableEntry {
  uint64_t raw = 0;
  uint64_t block_offset = 0;  // bits 9..63
  uint64_t reserved = 0;
  bool unaligned = false;
  bool used() const { return block_offset != 0; }
};

inline RefTableEntry decode_reftable_entry(uint64_t raw, const Geometry& g) {
  RefTableEntry e;
  e.raw = raw;
  e.block_offset = raw & ~kRefTableReservedMask;
  e.reserved = raw & kRefTableReservedMask;
  e.unaligned = (e.block_offset & (g.cluster_size - 1)) != 0;
  return e;
}

}  // namespace qcow2
