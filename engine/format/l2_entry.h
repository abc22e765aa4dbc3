// L2 entries, standard (64-bit) and extended (64-bit entry + 64-bit subcluster bitmap).
#pragma once

#include <cstdint>
#include <span>

#include "engine/format/geometry.h"
#include "engine/format/l1_entry.h"

namespace qcow2 {

inline constexpr uint64_t kL2Compressed = 1ULL << 62;
inline constexpr uint64_t kL2ZeroFlag = 1ULL;
inline constexpr uint64_t kL2ReservedMask = 0x3f000000000001feULL;  // standard descriptor

enum class L2Kind : uint8_t { kUnallocated, kNormal, kZeroPlain, kZeroAlloc, kCompressed };

const char* l2_kind_name(L2Kind k);

struct L2Entry {
  uint64_t raw = 0;
  uint64_t bitmap = 0;  // extended L2 only: bits 0..31 allocated, 32..63 reads-as-zero
  L2Kind kind = L2Kind::kUnallocated;
  bool copied = false;
  bool zero_flag = false;  // bit 0 of a standard entry (v3)
  uint64_t reserved = 0;   // reserved bits that are set (standard descriptor only)
  // Normal / zero-allocated clusters.
  uint64_t host_offset = 0;
  bool unaligned = false;
  // Compressed clusters.
  uint64_t comp_offset = 0;        // host byte offset of the compressed stream
  uint64_t comp_extra_sectors = 0; // additional 512-byte sectors after the first
  uint64_t comp_length = 0;        // bytes QEMU reads: (n + 1) * 512 - offset % 512
  // Extended L2 helpers.
  uint32_t alloc_mask() const { return static_cast<uint32_t>(bitmap); }
  uint32_t zero_mask() const { return static_cast<uint32_t>(bitmap >> 32); }
  uint32_t alloc_and_zero() const { return alloc_mask() & zero_mask(); }
};

L2Entry decode_l2_entry(uint64_t raw, uint64_t bitmap, const Geometry& g);

// Where an entry's host cluster lies against the end of the file. The bytes that must be
// there are the whole cluster for a normal standard entry, and up to the last allocated
// subcluster with extended L2 (QEMU leaves the last cluster short when only its first
// subclusters were written); a zero cluster needs none. A cluster that starts at or past the
// end is past it whatever it needs. The one rule for the check, the dump and the tree.
enum class Placement : uint8_t { kInside, kCut, kPastEof };
Placement data_placement(const L2Entry& e, const Geometry& g, uint64_t file_size);
uint64_t data_bytes_needed(const L2Entry& e, const Geometry& g);

// Decodes entry `index` of an L2 table held in `table` (one cluster).
L2Entry l2_entry_at(std::span<const uint8_t> table, uint64_t index, const Geometry& g);

}  // namespace qcow2
