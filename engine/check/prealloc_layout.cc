#include "engine/check/prealloc_layout.h"

#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"

namespace qcow2 {

Result<PreallocReport> check_prealloc_layout(const Image& img, const Layout& layout, size_t max_listed) {
  PreallocReport r;
  // A snapshot's copy-on-write moves clusters out of place by design: the layout says nothing.
  if (!img.snapshots().snapshots.empty() || img.header().nb_snapshots != 0) return r;
  r.checked = true;
  const Geometry& g = img.geometry();
  std::vector<uint8_t> table;
  const std::vector<uint64_t>& l1 = layout.active_l1().entries;
  for (uint64_t i = 0; i < l1.size(); ++i) {
    const L1Entry e = decode_l1_entry(l1[i], g);
    // Damaged pointers are the check's to report; there is no layout to compare them with.
    if (!e.used() || e.unaligned || !inside_file(e.l2_offset, g.cluster_size, img.file_size()) ||
        layout.l2_conflict(e.l2_offset))
      continue;
    QCOW2_RETURN_IF_ERROR(img.read_cluster(e.l2_offset, table));
    for (uint64_t j = 0; j < g.l2_entries; ++j) {
      const L2Entry d = l2_entry_at(table, j, g);
      if (d.kind != L2Kind::kNormal && d.kind != L2Kind::kZeroAlloc) continue;
      ++r.data_clusters;
      if (d.host_offset == e.l2_offset + (j + 1) * g.cluster_size) continue;
      ++r.deviations;
      if (r.listed.size() < max_listed) r.listed.push_back({i, e.l2_offset, j, d.host_offset});
    }
  }
  return r;
}

}  // namespace qcow2
