// Refcount block entries of 1 to 64 bits (refcount_order 0..6).
// Widths of 8 bits and more are big-endian integers; narrower ones pack into each byte from
// its least significant bit (entry 0 is bit 0 of byte 0).
#pragma once

#include <cstdint>
#include <span>

namespace qcow2 {

// Reads entry `index` of a refcount block; the caller keeps index below the block's entries.
uint64_t refcount_at(std::span<const uint8_t> block, uint64_t index, uint32_t refcount_order);

// Writes entry `index`; value must fit in 1 << refcount_order bits.
void set_refcount_at(std::span<uint8_t> block, uint64_t index, uint32_t refcount_order,
                     uint64_t value);

// refcount_at for a width known at compile time: the compare pass reads every refcount of
// the image, and a per-entry switch on the width shows in its profile.
template <uint32_t Order>
inline uint64_t refcount_at_order(const uint8_t* block, uint64_t index) {
  if constexpr (Order < 3) {
    constexpr uint32_t bits = 1U << Order;
    const uint64_t bit = index * bits;
    return (block[bit >> 3] >> (bit & 7)) & ((1U << bits) - 1);
  } else {
    constexpr uint32_t bytes = 1U << (Order - 3);
    uint64_t v = 0;
    for (uint32_t k = 0; k < bytes; ++k) v = (v << 8) | block[index * bytes + k];
    return v;
  }
}

// Where refcount `index` of a block at `block_offset` lives: `width` bytes at `offset` (one
// byte for widths under 8 bits), the entry's bits `mask` of their big-endian value, and the
// `shift` that puts a count there.
struct RefcountField {
  uint64_t offset = 0;
  uint32_t width = 1;
  uint64_t mask = 0;
  unsigned shift = 0;
};

inline RefcountField refcount_field(uint64_t block_offset, uint64_t index, uint32_t refcount_order) {
  RefcountField f;
  if (refcount_order < 3) {
    const uint64_t bit = index << refcount_order;
    f.offset = block_offset + (bit >> 3);
    f.shift = static_cast<unsigned>(bit & 7);
    f.mask = ((1ULL << (1U << refcount_order)) - 1) << f.shift;
    return f;
  }
  f.width = 1U << (refcount_order - 3);
  f.offset = block_offset + index * f.width;
  f.mask = f.width == 8 ? ~0ULL : (1ULL << (8 * f.width)) - 1;
  return f;
}

// The largest refcount a width can hold.
inline uint64_t refcount_max(uint32_t refcount_order) {
  return refcount_order >= 6 ? ~0ULL : (1ULL << (1U << refcount_order)) - 1;
}

}  // namespace qcow2
