// Lost data, inferred only where the layout proves it (the repair of a damaged entry must never
// free what the entry lost):
// - a lost L2 table: an L1 entry that names no table any more (unaligned, past the end, into
//   another structure), and exactly one leaked cluster that reads as an L2 table whose every
//   data cluster is leaked too;
// - lost L2 entries: a run of zero or damaged entries between two entries that map consecutive
//   clusters, when the clusters between are referenced by nothing and their refcounts are
//   exactly what the entries would give them;
// - an unaligned offset whose rounded-down cluster waits for it in the same way.
// Damaged entries get their proposed value (risky); zero entries become l2-lost-entry findings.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/check/finding.h"
#include "engine/check/ref_counter.h"
#include "engine/check/referrers.h"
#include "engine/io/image.h"

namespace qcow2 {

struct LostData {
  std::unordered_map<uint64_t, uint64_t> homes;  // inferred home cluster -> entry offset re-linking it
  std::vector<Finding> entries;                   // l2-lost-entry findings, with their proposals
};

// `leaked`: unreferenced leaked cluster -> its refcount on disk; `suspect_tables`: file offsets
// of tables in doubt (never a source of inference). Proposes on the damaged entries of
// `findings` directly.
// `may_write(offset)` says whether a proposal may write there at all.
LostData infer_lost_data(const Image& img, const RefCounter& counts, const ReferrerMap& referrers,
                         const std::unordered_set<uint64_t>& suspect_tables,
                         const std::unordered_map<uint64_t, uint64_t>& leaked,
                         const std::function<bool(uint64_t)>& may_write, std::vector<Finding>& findings);

}  // namespace qcow2
