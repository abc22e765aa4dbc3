// The last pass, run only when something is wrong: walks the references again and names
// every referrer of each suspect cluster, turning counts into located findings (shared
// clusters, metadata overlaps, COPIED flags at fault).
#pragma once

#include <unordered_map>
#include <vector>

#include "engine/check/checker.h"

namespace qcow2 {

// One line naming a referrer: "active L2 table 0x40000 entry 3 (guest 0x30000)".
std::string describe_referrer(const Image& img, const Referrer& r);

// Adds findings for `suspects` (cluster -> on-disk refcount) to `findings`.
Status name_referrers(const Image& img, const std::unordered_map<uint64_t, uint64_t>& suspects,
                      std::vector<Finding>& findings, const std::atomic<bool>* cancel = nullptr);

}  // namespace qcow2
