// What each host cluster of the file holds, as runs: the check's metadata ranges, data
// (referenced by some L2 entry), leaked (no reference but a refcount above 0) or free. The
// on-disk refcounts come from the blocks the layout accepts, one block at a time.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/check/checker.h"
#include "engine/io/image.h"

namespace qcow2 {

struct RoleRun {
  uint64_t first = 0;  // cluster index
  uint64_t count = 0;
  std::string_view role;  // header, l1, l2, refcount-table, refcount-block, snapshot-table,
                          // snapshot-l1, bitmap-directory, bitmap-table, bitmap-data,
                          // crypto-header, data, leaked, free
};

// Needs a result whose counts are set (the image could be walked).
Result<std::vector<RoleRun>> cluster_roles(const Image& img, const CheckResult& r);

}  // namespace qcow2
