#include "engine/format/claims.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/format/extent.h"

namespace qcow2 {

std::string describe_claim(const Claim& c) {
  switch (c.role) {
    case Role::kSnapshotL1: return fmt::format("snapshot {}'s L1 table at 0x{:x}", c.index, c.offset);
    case Role::kRefBlock: return fmt::format("refcount block {} at 0x{:x}", c.index, c.offset);
    case Role::kBitmapTable: return fmt::format("bitmap {}'s table at 0x{:x}", c.index, c.offset);
    case Role::kL2: return fmt::format("the L2 table at 0x{:x}", c.offset);
    case Role::kHeader: return "the header cluster";
    default: return fmt::format("the {} at 0x{:x}", role_name(c.role), c.offset);
  }
}

uint64_t ClaimMap::count_of(const Claim& c) const { return cluster_span(c.offset, c.bytes, cluster_bits_).count; }

const Claim* ClaimMap::find(uint64_t first, uint64_t count) const {
  if (count == 0 || claims_.empty()) return nullptr;
  // The last claim starting at or before the range's last cluster is the only candidate that
  // can reach into it from the left; any claim starting inside the range overlaps it too.
  const uint64_t last = first + count - 1;
  auto it = std::upper_bound(claims_.begin(), claims_.end(), last,
                             [](uint64_t v, const Entry& e) { return v < e.first; });
  if (it == claims_.begin()) return nullptr;
  --it;
  return it->first + it->count > first ? &it->claim : nullptr;
}

const Claim* ClaimMap::overlapping(uint64_t offset, uint64_t bytes) const {
  const ClusterSpan s = cluster_span(offset, bytes, cluster_bits_);
  return find(s.first, s.count);
}

const Claim* ClaimMap::claim(const Claim& c) {
  const ClusterSpan s = cluster_span(c.offset, c.bytes, cluster_bits_);
  if (s.count == 0) return nullptr;
  if (const Claim* owner = find(s.first, s.count)) return owner;
  auto it = std::upper_bound(claims_.begin(), claims_.end(), s.first,
                             [](uint64_t v, const Entry& e) { return v < e.first; });
  claims_.insert(it, Entry{s.first, s.count, c});
  return nullptr;
}

std::vector<ClaimMap::Refused> ClaimMap::claim_all(const std::vector<Claim>& batch) {
  std::vector<Refused> refused;
  std::vector<size_t> order;
  order.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i)
    if (batch[i].bytes) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return batch[a].offset != batch[b].offset ? batch[a].offset < batch[b].offset : a < b;
  });
  std::vector<Entry> accepted;
  accepted.reserve(order.size());
  for (size_t i : order) {
    const ClusterSpan s = cluster_span(batch[i].offset, batch[i].bytes, cluster_bits_);
    if (const Claim* owner = find(s.first, s.count)) {
      refused.push_back({i, *owner});
      continue;
    }
    // Sorted by start: only the last accepted member can reach into this one.
    if (!accepted.empty() && accepted.back().first + accepted.back().count > s.first) {
      refused.push_back({i, accepted.back().claim});
      continue;
    }
    accepted.push_back({s.first, s.count, batch[i]});
  }
  std::vector<Entry> merged;
  merged.reserve(claims_.size() + accepted.size());
  std::merge(claims_.begin(), claims_.end(), accepted.begin(), accepted.end(), std::back_inserter(merged),
             [](const Entry& a, const Entry& b) { return a.first < b.first; });
  claims_ = std::move(merged);
  std::sort(refused.begin(), refused.end(), [](const Refused& a, const Refused& b) { return a.position < b.position; });
  return refused;
}

}  // namespace qcow2
