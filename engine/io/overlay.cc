#include "engine/io/overlay.h"

#include <algorithm>
#include <cstring>

namespace qcow2 {

void Overlay::write(uint64_t offset, std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const uint64_t end = offset + bytes.size();
  // Merge every extent the new one overlaps into one. Adjacent ones stay apart: a plan appends
  // hundreds of blocks end to end, and merging those would copy the growing run each time.
  uint64_t lo = offset, hi = end;
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin() && std::prev(it)->first + std::prev(it)->second.view.size() > offset) --it;
  std::vector<uint8_t> out;
  std::vector<std::pair<uint64_t, std::span<const uint8_t>>> merged;
  std::vector<std::vector<uint8_t>> keep;  // owned bytes of merged extents, alive until copied
  while (it != extents_.end() && it->first < end) {
    lo = std::min(lo, it->first);
    hi = std::max<uint64_t>(hi, it->first + it->second.view.size());
    keep.push_back(std::move(it->second.owned));
    merged.emplace_back(it->first, keep.back().empty() ? it->second.view : std::span<const uint8_t>(keep.back()));
    it = extents_.erase(it);
  }
  out.resize(hi - lo);
  for (const auto& [start, b] : merged) std::memcpy(out.data() + (start - lo), b.data(), b.size());
  std::memcpy(out.data() + (offset - lo), bytes.data(), bytes.size());
  Extent e;
  e.owned = std::move(out);
  e.view = e.owned;
  auto placed = extents_.emplace(lo, std::move(e)).first;
  placed->second.view = placed->second.owned;  // the vector's buffer moved with it; point at it again
  size_ = std::max(size_, end);
}

void Overlay::lay(uint64_t offset, std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const uint64_t end = offset + bytes.size();
  auto it = extents_.upper_bound(offset);
  const bool after_prev = it == extents_.begin() || std::prev(it)->first + std::prev(it)->second.view.size() <= offset;
  const bool before_next = it == extents_.end() || it->first >= end;
  if (!after_prev || !before_next) return write(offset, bytes);
  Extent e;
  e.view = bytes;
  extents_.emplace(offset, std::move(e));
  size_ = std::max(size_, end);
}

void Overlay::apply(uint64_t offset, std::span<uint8_t> out) const {
  const uint64_t end = offset + out.size();
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin()) --it;
  for (; it != extents_.end() && it->first < end; ++it) {
    const uint64_t s = std::max(offset, it->first);
    const uint64_t e = std::min<uint64_t>(end, it->first + it->second.view.size());
    if (s < e) std::memcpy(out.data() + (s - offset), it->second.view.data() + (s - it->first), e - s);
  }
}

}  // namespace qcow2
