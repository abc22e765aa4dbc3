// The second pass: reads every refcount block once, in table order, and compares each on-disk
// refcount with the references counted, and each active COPIED flag with the refcount.
#pragma once

#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "engine/check/counting_sink.h"
#include "engine/check/layout.h"
#include "engine/check/reference_walk.h"

namespace qcow2 {

inline constexpr uint64_t kNoRefcount = ~0ULL;

struct CompareOutput {
  std::unordered_set<uint64_t> watch;  // in: clusters to report as suspects whatever their counts
  // Clusters whose referrers the last pass should name, with their on-disk refcount
  // (kNoRefcount for a cluster no refcount block describes).
  std::unordered_map<uint64_t, uint64_t> suspects;
  bool suspects_truncated = false;
};

Status compare_refcounts(const Image& img, const Layout& layout, CountingSink& counted, CheckStats& stats,
                         size_t max_suspects, bool bulk, CompareOutput& out,
                         const std::atomic<bool>* cancel = nullptr, const TableProgress& on_block = {});

}  // namespace qcow2
