// `--output=json`: the check result as JSON, with qemu-img check's field names where they
// overlap (check-errors, corruptions, leaks, image-end-offset, *-clusters).
#pragma once

#include <nlohmann/json.hpp>

#include "engine/check/checker.h"

namespace qcow2 {

nlohmann::json check_to_json(const Image& img, const CheckResult& r);

// qemu-img's notion of corruptions: refcount errors, COPIED mismatches and structural errors.
uint64_t corruption_count(const CheckResult& r);

}  // namespace qcow2
