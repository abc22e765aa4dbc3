#include "engine/render/finding_index.h"

#include <algorithm>

#include "engine/render/text_util.h"

namespace qcow2 {

FindingIndex::FindingIndex(const std::vector<Finding>& findings) : findings_(findings) {
  for (size_t i = 0; i < findings.size(); ++i)
    if (findings[i].file_offset) by_offset_.emplace_back(*findings[i].file_offset, i);
  std::sort(by_offset_.begin(), by_offset_.end());
}

std::string FindingIndex::text(uint64_t lo, uint64_t hi) const {
  std::string out;
  auto it = std::lower_bound(by_offset_.begin(), by_offset_.end(), std::make_pair(lo, size_t{0}));
  for (; it != by_offset_.end() && it->first < hi; ++it) {
    const Finding& f = findings_[it->second];
    if (!out.empty()) out += "; ";
    out += f.code;
    out += ": ";
    out += f.message;
  }
  // Messages can quote names read from the image: keep the line ASCII and single.
  return escape_text(out);
}

}  // namespace qcow2
