#include "engine/check/ref_counter.h"

#include <cstring>

namespace qcow2 {

RefCounter::RefCounter(uint64_t clusters, uint64_t max_expected) : clusters_(clusters) {
  bits_ = 4;
  while (bits_ < 32 && max_expected >= (1ULL << bits_) - 1) bits_ *= 2;
  sat_ = (1ULL << bits_) - 1;
  cells_.assign((clusters * bits_ + 7) / 8, 0);
  active_set_.assign((clusters + 63) / 64, 0);
  active_clear_.assign((clusters + 63) / 64, 0);
}

uint64_t RefCounter::memory_bytes() const {
  return cells_.size() + (active_set_.size() + active_clear_.size()) * 8 + overflow_.size() * 32;
}

uint64_t RefCounter::raw(uint64_t c) const {
  switch (bits_) {
    case 4: return (cells_[c >> 1] >> ((c & 1) * 4)) & 0xf;
    case 8: return cells_[c];
    case 16: { uint16_t v; std::memcpy(&v, &cells_[c * 2], 2); return v; }
    default: { uint32_t v; std::memcpy(&v, &cells_[c * 4], 4); return v; }
  }
}

void RefCounter::store(uint64_t c, uint64_t v) {
  switch (bits_) {
    case 4: {
      uint8_t& b = cells_[c >> 1];
      const unsigned shift = (c & 1) * 4;
      b = static_cast<uint8_t>((b & ~(0xf << shift)) | (v << shift));
      break;
    }
    case 8: cells_[c] = static_cast<uint8_t>(v); break;
    case 16: { uint16_t x = static_cast<uint16_t>(v); std::memcpy(&cells_[c * 2], &x, 2); break; }
    default: { uint32_t x = static_cast<uint32_t>(v); std::memcpy(&cells_[c * 4], &x, 4); break; }
  }
}

void RefCounter::add(uint64_t c, uint64_t n) {
  const uint64_t cur = raw(c);
  if (cur == sat_) {
    overflow_[c] += n;
    return;
  }
  const uint64_t next = cur + n;
  if (next < sat_ && next >= cur) {
    store(c, next);
    return;
  }
  store(c, sat_);
  overflow_[c] = next < cur ? ~0ULL : next;  // next < cur only on wrap-around
}

uint64_t RefCounter::get(uint64_t c) const {
  const uint64_t cur = raw(c);
  if (cur != sat_) return cur;
  auto it = overflow_.find(c);
  return it == overflow_.end() ? cur : it->second;
}

void RefCounter::mark_active(uint64_t c, bool copied) { set(copied ? active_set_ : active_clear_, c); }

}  // namespace qcow2
