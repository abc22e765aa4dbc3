// The last pass, run only when something is wrong: walks the references again and names
// every referrer of each suspect cluster, turning counts into located findings (shared
// clusters, metadata overlaps, COPIED flags at fault). It also looks up who references the
// clusters around leaked runs, for the inference of lost L2 entries (propose.h).
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/check/checker.h"
#include "engine/check/layout.h"

namespace qcow2 {

// Who references one cluster. At most kMaxListed referrers are kept; `times` counts them all.
struct ReferrerInfo {
  static constexpr size_t kMaxListed = 16;
  std::vector<Referrer> referrers;
  uint64_t times = 0;      // references, each L1 entry sharing an L2 table counted
  uint64_t left_out = 0;   // referrers not in the list
  bool active_copied = false;
  bool active_not_copied = false;
};
using ReferrerMap = std::unordered_map<uint64_t, ReferrerInfo>;

// One line naming a referrer: "active L2 table 0x40000 entry 3 (guest 0x30000)".
std::string describe_referrer(const Image& img, const Referrer& r);

// Walks the references once and records the referrers of every cluster in `wanted`.
Result<ReferrerMap> collect_referrers(const Image& img, const Layout& layout,
                                      const std::unordered_set<uint64_t>& wanted,
                                      const std::atomic<bool>* cancel = nullptr);

// Adds the findings for `suspects` (cluster -> on-disk refcount): COPIED flags at fault,
// clusters shared by several referrers, metadata overlaps.
void referrer_findings(const Image& img, const std::unordered_map<uint64_t, uint64_t>& suspects,
                       const ReferrerMap& referrers, std::vector<Finding>& findings);

}  // namespace qcow2
