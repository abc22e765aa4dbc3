#include "engine/check/ref_counter.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qcow2 {
RefCounter::RefCounter(uint64_t clusters, uint64_t max_expected) : clusters_(clusters) {
  bits_ = 2;
  while (bits_ < 32 && max_expected >= (1ULL << bits_) - 1) bits_ *= 2;
  sat_ = (1ULL << bits_) - 1;
  states_ = bits_ == 4 && max_expected <= kMaxStateCount;
  cells_ = ZeroedBuffer((clusters * (bits_ == 2 ? 4 : bits_) + 7) / 8);
  if (bits_ > 2 && !states_) {
    active_set_.assign((clusters + 63) / 64, 0);
    active_clear_.assign((clusters + 63) / 64, 0);
  }
}

bool RefCounter::add_fresh_run(uint64_t first, uint64_t count, uint64_t times, uint8_t flags) {
#ifdef QCOW2_CHECKED_INDEX
  if (count != 0) {
    check_index(first);
    check_index(count > clusters_ - first ? clusters_ : first + count - 1);
  }
#endif
  if (count == 0 || first > clusters_ || count > clusters_ - first) return false;
  uint8_t v;
  if (states_) {
    v = encode_state(times, flags);
    if (v == kEscaped) return false;
  } else if (bits_ == 2 && times < 3) {
    v = static_cast<uint8_t>(times | flags << 2);
  } else {
    return false;
  }
  const uint64_t end = first + count;
  // Whole bytes in the middle, single nibbles at odd edges.
  const uint64_t head = first & 1 ? first + 1 : first;
  const uint64_t tail = std::max<uint64_t>(head, end & ~uint64_t{1});
  if (first != head && nibble(first) != 0) return false;
  if (tail != end && nibble(tail) != 0) return false;
  const uint8_t* bytes = cells_.data();
  for (uint64_t b = head >> 1; b < tail >> 1; ++b)
    if (bytes[b] != 0) return false;
  if (first != head) set_nibble(first, v);
  if (tail != end) set_nibble(tail, v);
  std::memset(cells_.data() + (head >> 1), v | v << 4, (tail - head) >> 1);
  return true;
}

#ifdef QCOW2_CHECKED_INDEX
void RefCounter::index_out_of_range(uint64_t c) const {
  std::fprintf(stderr, "RefCounter: cluster index %llu out of range: clusters() is %llu\n",
               static_cast<unsigned long long>(c), static_cast<unsigned long long>(clusters_));
  std::abort();
}
#endif

uint64_t RefCounter::memory_bytes() const {
  return cells_.size() + (active_set_.size() + active_clear_.size()) * 8 + overflow_.size() * 32 +
         escaped_.size() * 40;
}

uint64_t RefCounter::raw_wide(uint64_t c) const {
  switch (bits_) {
    case 8: return cells_[c];
    case 16: { uint16_t v; std::memcpy(&v, &cells_[c * 2], 2); return v; }
    default: { uint32_t v; std::memcpy(&v, &cells_[c * 4], 4); return v; }
  }
}

void RefCounter::store_wide(uint64_t c, uint64_t v) {
  switch (bits_) {
    case 8: cells_[c] = static_cast<uint8_t>(v); break;
    case 16: { uint16_t x = static_cast<uint16_t>(v); std::memcpy(&cells_[c * 2], &x, 2); break; }
    default: { uint32_t x = static_cast<uint32_t>(v); std::memcpy(&cells_[c * 4], &x, 4); break; }
  }
}

void RefCounter::add_slow(uint64_t c, uint64_t cur, uint64_t n) {
  if (cur == sat_) {
    overflow_[c] += n;
    return;
  }
  const uint64_t next = cur + n;
  store(c, sat_);
  overflow_[c] = next < cur ? ~0ULL : next;  // next < cur only on wrap-around
}

uint64_t RefCounter::get_slow(uint64_t c) const {
  auto it = overflow_.find(c);
  return it == overflow_.end() ? sat_ : it->second;
}

void RefCounter::escape(uint64_t c, uint8_t v, uint64_t n, uint8_t flags) {
  if (v == kEscaped) {
    Escaped& e = escaped_[c];
    e.count = e.count + n < e.count ? ~0ULL : e.count + n;
    e.flags |= flags;
    return;
  }
  const uint64_t count = kStateCount[v] + n;
  const uint8_t f = kStateFlags[v] | flags;
  const uint8_t next = count < n ? kEscaped : encode_state(count, f);
  if (next == kEscaped) escaped_[c] = Escaped{count < n ? ~0ULL : count, f};
  set_nibble(c, next);
}

uint64_t RefCounter::state_count(uint64_t c) const {
  const uint8_t v = nibble(c);
  if (v != kEscaped) return kStateCount[v];
  auto it = escaped_.find(c);
  return it == escaped_.end() ? 0 : it->second.count;
}

uint8_t RefCounter::state_flags(uint64_t c) const {
  const uint8_t v = nibble(c);
  if (v != kEscaped) return kStateFlags[v];
  auto it = escaped_.find(c);
  return it == escaped_.end() ? 0 : it->second.flags;
}

}  // namespace qcow2
