// Findings about the header itself: its validation problems, feature bits, linked files.
#pragma once

#include <vector>

#include "engine/check/checker.h"

namespace qcow2 {

std::vector<Finding> header_findings(const Image& img, const CheckOptions& opts);

}  // namespace qcow2
