// `--output=json`: the check result as JSON, with qemu-img check's field names (and types)
// where they overlap (check-errors, corruptions, leaks, image-end-offset, *-clusters). Every
// other offset and raw value is a "0x…" string, so that no JSON reader rounds a 64-bit value;
// counts and indexes stay numbers. The shape is documented in man/qcow2-dump.1 (JSON OUTPUT).
#pragma once

#include <nlohmann/json.hpp>

#include "engine/check/checker.h"

namespace qcow2 {

nlohmann::json check_to_json(const Image& img, const CheckResult& r);
nlohmann::json finding_to_json(const Finding& f, const std::string& image_path);

// The JSON as text: never fails (strings are escaped at their source, and invalid UTF-8 would
// be replaced rather than thrown on).
std::string json_text(const nlohmann::json& j, int indent);

// qemu-img's notion of corruptions: refcount errors, COPIED mismatches and structural errors.
uint64_t corruption_count(const CheckResult& r);

}  // namespace qcow2
