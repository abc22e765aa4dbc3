// qcow2-dump -p: where the data clusters of the active tables lie against the layout that
// preallocation (qemu-img create -o preallocation=metadata|full) makes: each L2 table followed
// by the clusters of its entries in order, entry i at l2_offset + (i + 1) * cluster_size. A
// cluster elsewhere was written later (or moved): the well-known tool lists each one.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/check/layout.h"
#include "engine/io/image.h"

namespace qcow2 {

struct PreallocDeviation {
  uint64_t l1_index = 0;
  uint64_t l2_offset = 0;
  uint64_t l2_index = 0;
  uint64_t data_offset = 0;
};

struct PreallocReport {
  bool checked = false;       // false when the image has snapshots (their clusters move data)
  uint64_t data_clusters = 0;  // normal and zero-allocated entries looked at
  uint64_t deviations = 0;    // all of them, listed or not
  std::vector<PreallocDeviation> listed;  // the first max_listed, in table order
};

// Reads the active L2 tables again (those the layout accepts: aligned, inside the file).
// Compressed, unallocated and plain zero entries have no place in the layout and are skipped.
Result<PreallocReport> check_prealloc_layout(const Image& img, const Layout& layout, size_t max_listed);

}  // namespace qcow2
