// The walk behind every check pass: enumerates each reference the image makes to a host
// cluster (header, tables, data), reporting structural problems on the way. Tables come from
// the layout, decoded once each; L2 tables are read once each, in file order, however many L1
// entries share them, and only after their pointer was checked against the layout's claims.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/check/layout.h"
#include "engine/check/reference.h"
#include "engine/check/stats.h"
#include "engine/io/image.h"

namespace qcow2 {

// Called after each table a pass reads (done of total), for a progress display.
using TableProgress = std::function<void(size_t done, size_t total)>;

struct WalkOptions {
  bool verify_compressed = true;  // decompress every compressed cluster
  bool bulk = true;               // see CheckOptions::bulk
  const std::atomic<bool>* cancel = nullptr;  // see CheckOptions::cancel
  TableProgress on_table;         // after each L2 table
};

// kCancelled once opts.cancel is set (checked between tables).
inline Status cancelled_check(const std::atomic<bool>* cancel) {
  return cancel && cancel->load(std::memory_order_relaxed) ? Status::Cancelled("the check was cancelled")
                                                           : Status::Ok();
}

// Walks `img` (which must be walkable) through `layout` and feeds `sink`. `stats`, when given,
// receives the per-table statistics (the first pass only).
Status walk_references(const Image& img, const Layout& layout, ReferenceSink& sink, CheckStats* stats,
                       const WalkOptions& opts = {});

}  // namespace qcow2
