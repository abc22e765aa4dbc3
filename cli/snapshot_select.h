// Turns -s into the list of L1 tables to print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/io/image.h"
#include "engine/util/status.h"

namespace qcow2::cli {

struct L1Target {
  std::string title;       // the section header
  uint64_t offset = 0;
  uint64_t entries = 0;
  const Snapshot* snapshot = nullptr;  // null for the active table
};

// "active", "inactive", "all", or one snapshot: the first whose id equals `selector` exactly,
// else the first whose name does. No match is kInvalidArgument naming the selector; unlike the
// old tool we never fall back to the first snapshot. Requires a walkable image.
Result<std::vector<L1Target>> select_l1_tables(const Image& img, const std::string& selector);

}  // namespace qcow2::cli
