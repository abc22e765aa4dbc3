#include "engine/check/counting_sink.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace qcow2 {

void CountingSink::reference(uint64_t first, uint64_t count, uint64_t times, const Referrer& r) {
  // Header-rooted tables are at most 64 MiB, so count fits; keep the range honest regardless.
  if (is_metadata(r.role)) metadata_.push_back({first, static_cast<uint32_t>(std::min<uint64_t>(count, UINT32_MAX)), r.role});
  for (uint64_t c = first; c < first + count; ++c) {
    if (c >= counter_.clusters()) {
      // Callers check ranges against the file; only header-rooted tables can get here.
      Finding f = make_finding("reference-past-eof", Category::kCorrupt, role_name(r.role),
                               fmt::format("{} references cluster {} (offset 0x{:x}) past the end of the file",
                                           role_name(r.role), c, c << g_.cluster_bits),
                               "restore the pointer from a backup");
      f.file_offset = r.entry_offset;
      f.cluster = c;
      add_finding(std::move(f));
      return;
    }
    counter_.add(c, times);
  }
}

void CountingSink::add_finding(Finding f) {
  if (++per_code_[f.code] <= cap_) findings_.push_back(std::move(f));
}

std::vector<Finding> CountingSink::flush() {
  for (const auto& [code, n] : per_code_) {
    if (n <= cap_) continue;
    Category cat = category_.count(code) ? category_[code] : Category::kCorrupt;
    for (const auto& f : findings_)
      if (f.code == code) {
        cat = f.category;
        break;
      }
    findings_.push_back(make_finding(code.c_str(), cat, "",
                                     fmt::format("{} more '{}' findings not listed ({} in all)",
                                                 n - cap_, code, n),
                                     "see the statistics for the totals"));
  }
  per_code_.clear();
  return std::move(findings_);
}

}  // namespace qcow2
