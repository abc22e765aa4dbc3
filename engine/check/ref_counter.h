// Per-host-cluster state for the check, kept compact for multi-terabyte images: a saturating
// reference counter wide enough for every count a healthy image can have (the rare counts
// beyond it go to an exact overflow map), and two bits recording whether the active tables
// reference the cluster with COPIED set or clear.
// Without snapshots a healthy count is 0 or 1, so a 2-bit counter and the two flags share one
// nibble (4 bits a cluster: 8 MiB for 1 TiB of 64 KiB clusters). With snapshots the counter
// takes 4, 8, 16 or 32 bits and the flags live in two bitsets.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace qcow2 {

class RefCounter {
 public:
  // `clusters` host clusters; `max_expected` the largest count a healthy image can need
  // (snapshots + 2), which picks the layout.
  RefCounter(uint64_t clusters, uint64_t max_expected);

  uint64_t clusters() const { return clusters_; }
  unsigned counter_bits() const { return bits_; }
  uint64_t memory_bytes() const;

  void add(uint64_t cluster, uint64_t n) {
    const uint64_t cur = raw(cluster);
    if (cur + n < sat_ && cur != sat_) {
      store(cluster, cur + n);
      return;
    }
    add_slow(cluster, cur, n);
  }
  uint64_t get(uint64_t cluster) const {
    const uint64_t cur = raw(cluster);
    return cur != sat_ ? cur : get_slow(cluster);
  }

  // Active references: whether some carry COPIED and some do not.
  void mark_active(uint64_t c, bool copied) {
    if (bits_ == 2) cells_[c >> 1] |= static_cast<uint8_t>((copied ? 4 : 8) << nibble_shift(c));
    else set(copied ? active_set_ : active_clear_, c);
  }
  bool active_copied(uint64_t c) const {
    return bits_ == 2 ? (cells_[c >> 1] >> nibble_shift(c)) & 4 : test(active_set_, c);
  }
  bool active_not_copied(uint64_t c) const {
    return bits_ == 2 ? (cells_[c >> 1] >> nibble_shift(c)) & 8 : test(active_clear_, c);
  }
  bool active(uint64_t c) const { return active_copied(c) || active_not_copied(c); }

 private:
  static unsigned nibble_shift(uint64_t c) { return (c & 1) * 4; }
  static bool test(const std::vector<uint64_t>& b, uint64_t i) { return (b[i >> 6] >> (i & 63)) & 1; }
  static void set(std::vector<uint64_t>& b, uint64_t i) { b[i >> 6] |= 1ULL << (i & 63); }
  uint64_t raw(uint64_t c) const {
    if (bits_ <= 4) return (cells_[c >> 1] >> nibble_shift(c)) & sat_;
    return raw_wide(c);
  }
  void store(uint64_t c, uint64_t v) {
    if (bits_ <= 4) {
      uint8_t& b = cells_[c >> 1];
      const unsigned shift = nibble_shift(c);
      b = static_cast<uint8_t>((b & ~(sat_ << shift)) | (v << shift));
      return;
    }
    store_wide(c, v);
  }
  uint64_t raw_wide(uint64_t c) const;
  void store_wide(uint64_t c, uint64_t v);
  void add_slow(uint64_t c, uint64_t cur, uint64_t n);
  uint64_t get_slow(uint64_t c) const;

  uint64_t clusters_;
  unsigned bits_;  // 2 (flags in the same nibble), 4, 8, 16 or 32
  uint64_t sat_;   // the saturated value: the count lives in overflow_
  std::vector<uint8_t> cells_;
  std::unordered_map<uint64_t, uint64_t> overflow_;
  std::vector<uint64_t> active_set_;
  std::vector<uint64_t> active_clear_;
};

}  // namespace qcow2
