#include "engine/io/overlay.h"

#include <algorithm>
#include <cstring>

namespace qcow2 {

void Overlay::write(uint64_t offset, std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const uint64_t end = offset + bytes.size();
  // Merge every extent the new one touches (overlapping or adjacent) into one.
  uint64_t lo = offset, hi = end;
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin() && std::prev(it)->first + std::prev(it)->second.size() >= offset) --it;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> merged;
  while (it != extents_.end() && it->first <= end) {
    lo = std::min(lo, it->first);
    hi = std::max<uint64_t>(hi, it->first + it->second.size());
    merged.emplace_back(it->first, std::move(it->second));
    it = extents_.erase(it);
  }
  std::vector<uint8_t> out(hi - lo);
  for (const auto& [start, b] : merged) std::memcpy(out.data() + (start - lo), b.data(), b.size());
  std::memcpy(out.data() + (offset - lo), bytes.data(), bytes.size());
  extents_.emplace(lo, std::move(out));
  size_ = std::max(size_, end);
}

void Overlay::apply(uint64_t offset, std::span<uint8_t> out) const {
  const uint64_t end = offset + out.size();
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin()) --it;
  for (; it != extents_.end() && it->first < end; ++it) {
    const uint64_t s = std::max(offset, it->first);
    const uint64_t e = std::min<uint64_t>(end, it->first + it->second.size());
    if (s < e) std::memcpy(out.data() + (s - offset), it->second.data() + (s - it->first), e - s);
  }
}

}  // namespace qcow2
