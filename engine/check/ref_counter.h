// Per-host-cluster state for the check, kept compact for multi-terabyte images: a saturating
// reference counter wide enough for every count a healthy image can have (the rare counts
// beyond it go to an exact overflow map), and whether the active tables reference the
// cluster with COPIED set or clear. Three layouts, picked by the largest healthy count:
// - no snapshots (counts 0-1): a 2-bit counter and the two flags share one nibble;
// - up to 4 snapshots (counts 0-6): one nibble holds one of 15 common (count, flags) states,
//   the 16th sends the cluster to an exact map. Healthy images never need it: a cluster
//   shared with snapshots is active without COPIED, one written since is active with it.
//   4 bits a cluster, where a 4-bit counter and two flag bitsets would take 6;
// - more snapshots: a 4-, 8-, 16- or 32-bit counter and two flag bitsets.
// 1 TiB of 64 KiB clusters takes 8 MiB in either nibble layout.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/util/zeroed_buffer.h"

namespace qcow2 {

class RefCounter {
 public:
  // `clusters` host clusters; `max_expected` the largest count a healthy image can need
  // (snapshots + 2), which picks the layout.
  RefCounter(uint64_t clusters, uint64_t max_expected);

  uint64_t clusters() const { return clusters_; }
  // Bits a cluster's count takes (the nibble layouts say 2 and 4).
  unsigned counter_bits() const { return bits_; }
  uint64_t memory_bytes() const;

  void add(uint64_t cluster, uint64_t n) {
    check_index(cluster);
    if (states_) return add_state(cluster, n, 0);
    const uint64_t cur = raw(cluster);
    if (cur + n < sat_ && cur != sat_) {
      store(cluster, cur + n);
      return;
    }
    add_slow(cluster, cur, n);
  }
  uint64_t get(uint64_t cluster) const {
    check_index(cluster);
    if (states_) return state_count(cluster);
    const uint64_t cur = raw(cluster);
    return cur != sat_ ? cur : get_slow(cluster);
  }

  // add() and mark_active() in one step (the L2 scan's hot path).
  void add_active(uint64_t c, uint64_t n, bool copied) {
    check_index(c);
    if (states_) return add_state(c, n, copied ? kCopied : kNotCopied);
    add(c, n);
    mark_active(c, copied);
  }

  // What the active tables' references to a cluster said about COPIED.
  static constexpr uint8_t kCopied = 1;
  static constexpr uint8_t kNotCopied = 2;

  // Bulk form of add(c, times) plus, for `flags` other than 0, mark_active, for clusters
  // [first, first + count) nothing has referenced yet: a run of sequentially allocated
  // clusters, as most L2 tables hold. Changes nothing and returns false unless a nibble
  // layout holds that state and every cluster of the range is still untouched. A range past
  // clusters() also returns false, except under QCOW2_CHECKED_INDEX, where it aborts.
  bool add_fresh_run(uint64_t first, uint64_t count, uint64_t times, uint8_t flags);

  // The nibble layouts' bytes (two clusters each), for bulk comparisons; null otherwise.
  const uint8_t* nibbles() const { return bits_ == 2 || states_ ? cells_.data() : nullptr; }
  // What a nibble value means in this layout; false when the cluster's state lives elsewhere.
  bool decode_nibble(uint8_t v, uint64_t& count, uint8_t& flags) const {
    if (states_) {
      count = kStateCount[v];
      flags = kStateFlags[v];
      return v != kEscaped;
    }
    count = v & 3;
    flags = v >> 2;
    return count != 3;
  }

  // Active references: whether some carry COPIED and some do not.
  void mark_active(uint64_t c, bool copied) {
    check_index(c);
    if (states_) return add_state(c, 0, copied ? kCopied : kNotCopied);
    if (bits_ == 2) cells_[c >> 1] |= static_cast<uint8_t>((copied ? 4 : 8) << nibble_shift(c));
    else set(copied ? active_set_ : active_clear_, c);
  }
  bool active_copied(uint64_t c) const { return checked_flags(c) & kCopied; }
  bool active_not_copied(uint64_t c) const { return checked_flags(c) & kNotCopied; }
  bool active(uint64_t c) const { return checked_flags(c) != 0; }

 private:
  // The cells are mmap'd (ZeroedBuffer), where ASan has no redzones: an index past clusters()
  // would read or write a neighbour's cells, or past the mapping, unseen. Sanitizer and fuzz
  // builds define QCOW2_CHECKED_INDEX, and every public method taking a cluster index then
  // aborts, naming the index, instead. Other builds pay nothing: callers check their ranges.
#ifdef QCOW2_CHECKED_INDEX
  void check_index(uint64_t c) const {
    if (c >= clusters_) [[unlikely]] index_out_of_range(c);
  }
  [[noreturn]] void index_out_of_range(uint64_t c) const;
#else
  void check_index(uint64_t) const {}
#endif
  uint8_t checked_flags(uint64_t c) const {
    check_index(c);
    return flags(c);
  }
  static constexpr uint8_t kEscaped = 15;  // the state nibble's "look in escaped_"
  static constexpr uint64_t kMaxStateCount = 6;  // the largest count a state nibble holds
  // The state nibble: 0-6 count without flags, 7-12 count 1-6 active without COPIED,
  // 13-14 count 1-2 active with COPIED (2 is a cross-link, kept exact), 15 escaped.
  static constexpr uint8_t kStateCount[16] = {0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 0};
  static constexpr uint8_t kStateFlags[16] = {0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 1, 1, 0};
  static uint8_t encode_state(uint64_t count, uint8_t flags) {
    if (count > kMaxStateCount) return kEscaped;
    if (flags == 0) return static_cast<uint8_t>(count);
    if (count == 0) return kEscaped;
    if (flags == kNotCopied) return static_cast<uint8_t>(6 + count);
    if (flags == kCopied && count <= 2) return static_cast<uint8_t>(12 + count);
    return kEscaped;
  }
  struct Escaped {
    uint64_t count = 0;
    uint8_t flags = 0;
  };

  static unsigned nibble_shift(uint64_t c) { return (c & 1) * 4; }
  static bool test(const std::vector<uint64_t>& b, uint64_t i) { return (b[i >> 6] >> (i & 63)) & 1; }
  static void set(std::vector<uint64_t>& b, uint64_t i) { b[i >> 6] |= 1ULL << (i & 63); }
  uint8_t nibble(uint64_t c) const { return (cells_[c >> 1] >> nibble_shift(c)) & 15; }
  void set_nibble(uint64_t c, uint8_t v) {
    uint8_t& b = cells_[c >> 1];
    const unsigned shift = nibble_shift(c);
    b = static_cast<uint8_t>((b & ~(15U << shift)) | (unsigned{v} << shift));
  }
  uint8_t flags(uint64_t c) const {
    if (states_) return state_flags(c);
    if (bits_ == 2) return (nibble(c) >> 2) & 3;
    return (test(active_set_, c) ? kCopied : 0) | (test(active_clear_, c) ? kNotCopied : 0);
  }
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
  void add_state(uint64_t c, uint64_t n, uint8_t flags) {
    const uint8_t v = nibble(c);
    if (v != kEscaped && n <= kMaxStateCount) {
      const uint8_t next = encode_state(kStateCount[v] + n, kStateFlags[v] | flags);
      if (next != kEscaped) return set_nibble(c, next);
    }
    escape(c, v, n, flags);
  }
  void escape(uint64_t c, uint8_t v, uint64_t n, uint8_t flags);
  uint64_t state_count(uint64_t c) const;
  uint8_t state_flags(uint64_t c) const;

  uint64_t clusters_;
  unsigned bits_;        // 2 (flags in the same nibble), 4, 8, 16 or 32
  bool states_ = false;  // the state-nibble layout
  uint64_t sat_;         // the saturated value: the count lives in overflow_
  ZeroedBuffer cells_;
  std::unordered_map<uint64_t, uint64_t> overflow_;
  std::unordered_map<uint64_t, Escaped> escaped_;
  std::vector<uint64_t> active_set_;
  std::vector<uint64_t> active_clear_;
};

}  // namespace qcow2
