#include "engine/repair/role_index.h"

#include <algorithm>

#include "engine/format/extent.h"

namespace qcow2 {

RoleIndex::RoleIndex(const CheckResult& check, uint32_t cluster_bits)
    : check_(check), cluster_bits_(cluster_bits), ranges_(check.metadata) {
  std::stable_sort(ranges_.begin(), ranges_.end(), [](const MetaRange& a, const MetaRange& b) { return a.first < b.first; });
  uint64_t end = 0;
  for (const MetaRange& m : ranges_) {
    end = std::max(end, m.first + m.count);
    max_end_.push_back(end);
  }
}

std::vector<Role> RoleIndex::roles_at(uint64_t c) const {
  std::vector<Role> out;
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), c, [](uint64_t v, const MetaRange& m) { return v < m.first; });
  for (size_t i = static_cast<size_t>(it - ranges_.begin()); i-- > 0 && max_end_[i] > c;)
    if (c < ranges_[i].first + ranges_[i].count && std::find(out.begin(), out.end(), ranges_[i].role) == out.end())
      out.push_back(ranges_[i].role);
  return out;
}

std::optional<Role> RoleIndex::role_of(uint64_t offset, uint64_t bytes) const {
  const ClusterSpan s = cluster_span(offset, std::max<uint64_t>(bytes, 1), cluster_bits_);
  std::optional<Role> role;
  for (uint64_t c = s.first; c < s.first + s.count; ++c) {
    const std::vector<Role> at = roles_at(c);
    Role here;
    if (at.size() > 1) return std::nullopt;
    if (at.size() == 1) here = at[0];
    else if (c == 0) here = Role::kHeader;
    else if (check_.counts && c < check_.counts->clusters() && check_.counts->get(c) > 0) here = Role::kData;
    else here = Role::kFree;
    if (role && *role != here) return std::nullopt;
    role = here;
  }
  return role;
}

bool RoleIndex::has_role(uint64_t offset, uint64_t bytes, Role role) const {
  const ClusterSpan s = cluster_span(offset, std::max<uint64_t>(bytes, 1), cluster_bits_);
  for (uint64_t c = s.first; c < s.first + s.count; ++c) {
    const std::vector<Role> at = roles_at(c);
    if (std::find(at.begin(), at.end(), role) == at.end()) return false;
  }
  return true;
}

}  // namespace qcow2
