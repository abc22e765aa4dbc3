// The consistency check: one counting walk, one pass over the refcount blocks, and — only when
// something is wrong — a walk that names every referrer of each suspect cluster.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/check/finding.h"
#include "engine/check/ref_counter.h"
#include "engine/check/reference.h"
#include "engine/check/stats.h"
#include "engine/io/image.h"

namespace qcow2 {

class Layout;

struct CheckOptions {
  bool skip_backing = false;        // -b: do not require the backing file to exist
  bool verify_compressed = true;
  size_t max_findings_per_code = kMaxFindingsPerCode;  // further ones are counted in a summary finding
  size_t max_suspects = 65536;           // clusters whose referrers the last pass names
  // Count runs of sequential clusters and healthy refcount groups in bulk. The result is the
  // same either way; false (entry by entry) is the reference the tests compare against.
  bool bulk = true;
  // Called when the percent done changes: rising from 0 to 100, as the first pass reads its L2
  // tables (0..49) and the second its refcount blocks (50..79); exactly 50 and 80 when those
  // passes end, 100 at the end.
  std::function<void(unsigned percent)> progress;
  // When set, kept at the bytes of tables (L2 tables, refcount blocks) read so far, before each
  // progress call: with the time, a rate.
  uint64_t* table_bytes = nullptr;
  // When set and it becomes true, the check stops soon (between tables) with kCancelled:
  // a mount that is told to stop must not wait for a multi-terabyte check to end.
  const std::atomic<bool>* cancel = nullptr;
};

// A run of host clusters that metadata occupies.
// One per L2 table and refcount block: 16 bytes, as there are 160000 of them for 256 GiB of
// 4 KiB clusters.
struct MetaRange {
  uint64_t first = 0;
  uint32_t count = 0;
  Role role = Role::kHeader;
};

struct CheckResult {
  std::vector<Finding> findings;
  CheckStats stats;
  ImageStatus status = ImageStatus::kGood;
  std::vector<MetaRange> metadata;  // sorted by first cluster
  // References counted per host cluster (null when the image could not be walked): what the
  // mounted refcount files show beside the on-disk counts.
  std::shared_ptr<const RefCounter> counts;
  // The tables as the check judged them (null when the image could not be walked).
  std::shared_ptr<const Layout> layout;
};

// Checks `img`; fails only on I/O errors. An image too damaged to walk yields a result whose
// findings say why (status corrupt).
Result<CheckResult> check_image(const Image& img, const CheckOptions& opts = {});

}  // namespace qcow2
