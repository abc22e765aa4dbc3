// Refcount block entries. The packing follows QEMU's block/qcow2-refcount.c
// (get_refcount_ro0..ro6): sub-byte widths fill each byte from bit 0 upward, wider ones are
// big-endian integers laid end to end.
#include "engine/format/refcount.h"

#include "engine/util/bytes.h"

namespace qcow2 {

uint64_t refcount_at(std::span<const uint8_t> block, uint64_t index, uint32_t refcount_order) {
  const uint32_t bits = 1U << refcount_order;
  if (bits < 8) {
    const uint64_t bit = index * bits;
    const uint8_t mask = static_cast<uint8_t>((1U << bits) - 1);
    return (block[bit / 8] >> (bit % 8)) & mask;
  }
  const uint32_t bytes = bits / 8;
  return load_be(block.data() + index * bytes, bytes);
}

void set_refcount_at(std::span<uint8_t> block, uint64_t index, uint32_t refcount_order,
                     uint64_t value) {
  const uint32_t bits = 1U << refcount_order;
  if (bits < 8) {
    const uint64_t bit = index * bits;
    const unsigned shift = bit % 8;
    const uint8_t mask = static_cast<uint8_t>(((1U << bits) - 1) << shift);
    uint8_t& b = block[bit / 8];
    b = static_cast<uint8_t>((b & ~mask) | ((value << shift) & mask));
    return;
  }
  const uint32_t bytes = bits / 8;
  uint8_t* p = block.data() + index * bytes;
  // Store the low `bytes` bytes of value, most significant first.
  for (uint32_t i = bytes; i-- > 0; value >>= 8) p[i] = static_cast<uint8_t>(value);
}

}  // namespace qcow2
