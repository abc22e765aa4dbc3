// Per-host-cluster state for the check, kept compact for multi-terabyte images:
// a saturating reference counter of 4, 8, 16 or 32 bits (wide enough for every legitimate
// count the image can have; the rare counts beyond it go to an exact overflow map), and two
// bits recording whether the active tables reference the cluster with COPIED set or clear.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace qcow2 {

class RefCounter {
 public:
  // `clusters` host clusters; `max_expected` the largest count a healthy image can need
  // (snapshots + 2), which picks the counter width.
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
  void mark_active(uint64_t cluster, bool copied) { set(copied ? active_set_ : active_clear_, cluster); }
  bool active(uint64_t cluster) const { return test(active_set_, cluster) || test(active_clear_, cluster); }
  bool active_copied(uint64_t cluster) const { return test(active_set_, cluster); }
  bool active_not_copied(uint64_t cluster) const { return test(active_clear_, cluster); }

 private:
  static bool test(const std::vector<uint64_t>& b, uint64_t i) { return (b[i >> 6] >> (i & 63)) & 1; }
  static void set(std::vector<uint64_t>& b, uint64_t i) { b[i >> 6] |= 1ULL << (i & 63); }
  uint64_t raw(uint64_t c) const {
    if (bits_ == 4) return (cells_[c >> 1] >> ((c & 1) * 4)) & 0xf;
    return raw_wide(c);
  }
  void store(uint64_t c, uint64_t v) {
    if (bits_ == 4) {
      uint8_t& b = cells_[c >> 1];
      const unsigned shift = (c & 1) * 4;
      b = static_cast<uint8_t>((b & ~(0xf << shift)) | (v << shift));
      return;
    }
    store_wide(c, v);
  }
  uint64_t raw_wide(uint64_t c) const;
  void store_wide(uint64_t c, uint64_t v);
  void add_slow(uint64_t c, uint64_t cur, uint64_t n);
  uint64_t get_slow(uint64_t c) const;

  uint64_t clusters_;
  unsigned bits_;
  uint64_t sat_;  // the saturated value: the count lives in overflow_
  std::vector<uint8_t> cells_;
  std::unordered_map<uint64_t, uint64_t> overflow_;
  std::vector<uint64_t> active_set_;
  std::vector<uint64_t> active_clear_;
};

}  // namespace qcow2
