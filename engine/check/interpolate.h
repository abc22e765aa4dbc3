// For a run of damaged L2 entries between two good neighbours whose clusters are sequential
// (as qemu allocates them), the values the damaged entries most likely held: the neighbours'
// offsets stepped by one cluster each. Users of the older tool did this by hand.
#pragma once

#include <vector>

#include "engine/check/finding.h"
#include "engine/io/image.h"

namespace qcow2 {

// Sets suggested_value (and a fix naming it) on each L2 finding that can be interpolated.
void interpolate_damaged_l2(const Image& img, std::vector<Finding>& findings);

}  // namespace qcow2
