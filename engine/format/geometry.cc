#include "engine/format/geometry.h"

namespace qcow2 {

Geometry make_geometry(const Header& h) {
  Geometry g;
  g.cluster_bits = h.cluster_bits;
  g.cluster_size = 1ULL << h.cluster_bits;
  g.extended_l2 = h.incompatible_features & kIncompatExtendedL2;
  g.external_data = h.incompatible_features & kIncompatDataFile;
  g.l2_entry_bytes = g.extended_l2 ? 16 : 8;
  g.l2_bits = h.cluster_bits - (g.extended_l2 ? 4 : 3);
  g.l2_entries = 1ULL << g.l2_bits;
  g.subcluster_size = g.extended_l2 ? g.cluster_size / 32 : g.cluster_size;
  g.refcount_order = h.refcount_order;
  g.refcount_bits = 1U << h.refcount_order;
  g.refblock_bits = h.cluster_bits + 3 - h.refcount_order;
  g.refblock_entries = 1ULL << g.refblock_bits;
  g.csize_shift = 62 - (h.cluster_bits - 8);
  g.csize_mask = (1ULL << (h.cluster_bits - 8)) - 1;
  g.cluster_offset_mask = (1ULL << g.csize_shift) - 1;
  g.guest_bytes_per_l1_entry = g.l2_entries << g.cluster_bits;
  g.l1_entries_needed =
      h.size / g.guest_bytes_per_l1_entry + (h.size % g.guest_bytes_per_l1_entry != 0);
  return g;
}

}  // namespace qcow2
