// When lowering a refcount cannot lose data: the two rules the proposals and the repair
// planners share.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/check/finding.h"
#include "engine/io/image.h"

namespace qcow2 {

// Some pointer was not followed (an L1 entry, a snapshot, a damaged L2 entry): it may name
// clusters that now look over-counted, so lowering a refcount may free what it still needs.
// True when a finding of such a pointer has no proposal.
bool references_may_be_missing(const std::vector<Finding>& findings);

// Cluster `c` holds nothing a damaged entry could have lost: it reads as all zeros (or lies
// past the end of the file) and there is no backing file (whose data even zeros would hide).
// `buf` is scratch space.
bool cluster_holds_nothing(const Image& img, uint64_t c, std::vector<uint8_t>& buf);

}  // namespace qcow2
