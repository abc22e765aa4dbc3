// Which structure the check found in each cluster, for the planners (to name the role of the
// bytes an edit writes) and the validator (to refuse an edit outside the role it claims).
// Built once from the check's metadata ranges, which may overlap where structures collide;
// each lookup is a binary search.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/check/checker.h"

namespace qcow2 {

class RoleIndex {
 public:
  RoleIndex(const CheckResult& check, uint32_t cluster_bits);

  // Every metadata role cluster `c` has (several where structures overlap).
  std::vector<Role> roles_at(uint64_t c) const;
  // The one role of every cluster of [offset, offset + bytes): a metadata role they all
  // share; kHeader for bytes of cluster 0 that no structure claims; kData for clusters some
  // entry references; kFree for clusters nothing references. Empty when they differ or a
  // cluster has several.
  std::optional<Role> role_of(uint64_t offset, uint64_t bytes) const;
  // Whether every cluster of the range has `role` among its roles.
  bool has_role(uint64_t offset, uint64_t bytes, Role role) const;

 private:
  const CheckResult& check_;
  uint32_t cluster_bits_;
  std::vector<MetaRange> ranges_;  // sorted by first cluster
  std::vector<uint64_t> max_end_;  // max_end_[i]: the largest end of ranges_[0..i]
};

}  // namespace qcow2
