#include "engine/format/l2_entry.h"

#include "engine/format/extent.h"
#include "engine/util/bytes.h"

namespace qcow2 {

const char* l2_kind_name(L2Kind k) {
  switch (k) {
    case L2Kind::kUnallocated: return "unallocated";
    case L2Kind::kNormal: return "normal";
    case L2Kind::kZeroPlain: return "zero";
    case L2Kind::kZeroAlloc: return "zero-alloc";
    case L2Kind::kCompressed: return "compressed";
  }
  return "?";
}

L2Entry decode_l2_entry(uint64_t raw, uint64_t bitmap, const Geometry& g) {
  L2Entry e;
  e.raw = raw;
  e.bitmap = g.extended_l2 ? bitmap : 0;
  e.copied = raw & kEntryCopied;
  if (raw & kL2Compressed) {
    e.kind = L2Kind::kCompressed;
    e.comp_offset = raw & g.cluster_offset_mask;
    e.comp_extra_sectors = (raw >> g.csize_shift) & g.csize_mask;
    e.comp_length = (e.comp_extra_sectors + 1) * 512 - (e.comp_offset & 511);
    return e;
  }
  e.reserved = raw & kL2ReservedMask;
  e.host_offset = raw & kOffsetMask;
  e.unaligned = (e.host_offset & (g.cluster_size - 1)) != 0;
  if (g.extended_l2) {
    // Bit 0 is unused with extended L2; zero-ness lives in the bitmap, per subcluster.
    e.kind = e.host_offset != 0 || (g.external_data && e.alloc_mask() != 0) ? L2Kind::kNormal
                                                                            : L2Kind::kUnallocated;
    return e;
  }
  e.zero_flag = raw & kL2ZeroFlag;
  // With an external data file, offset 0 is a real data offset when COPIED is set.
  const bool has_cluster = e.host_offset != 0 || (g.external_data && e.copied);
  if (e.zero_flag)
    e.kind = has_cluster ? L2Kind::kZeroAlloc : L2Kind::kZeroPlain;
  else
    e.kind = has_cluster ? L2Kind::kNormal : L2Kind::kUnallocated;
  return e;
}

uint64_t data_bytes_needed(const L2Entry& e, const Geometry& g) {
  if (e.kind != L2Kind::kNormal) return 0;
  if (!g.extended_l2) return g.cluster_size;
  const uint32_t alloc = e.alloc_mask();
  return alloc ? (32 - static_cast<uint64_t>(__builtin_clz(alloc))) * g.subcluster_size : 0;
}

Placement data_placement(const L2Entry& e, const Geometry& g, uint64_t file_size) {
  if (e.host_offset >= file_size) return Placement::kPastEof;
  return inside_file(e.host_offset, data_bytes_needed(e, g), file_size) ? Placement::kInside : Placement::kCut;
}

L2Entry l2_entry_at(std::span<const uint8_t> table, uint64_t index, const Geometry& g) {
  const uint8_t* p = table.data() + index * g.l2_entry_bytes;
  return decode_l2_entry(load_be64(p), g.extended_l2 ? load_be64(p + 8) : 0, g);
}

}  // namespace qcow2
