// Findings looked up by the file bytes they are about, so a table renderer can put each finding
// on the line of the entry it concerns. Built once per check; a sorted vector, no per-line map.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/check/finding.h"

namespace qcow2 {

class FindingIndex {
 public:
  // Keeps a pointer into `findings`, which must outlive the index.
  explicit FindingIndex(const std::vector<Finding>& findings);

  // "code: message; code: message" for the findings whose file_offset lies in [lo, hi), in
  // the check's order; empty when there are none.
  std::string text(uint64_t lo, uint64_t hi) const;

 private:
  const std::vector<Finding>& findings_;
  std::vector<std::pair<uint64_t, size_t>> by_offset_;  // (file_offset, index), sorted
};

}  // namespace qcow2
