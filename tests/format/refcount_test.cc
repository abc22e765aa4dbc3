// Refcount entry packing for every width QEMU allows (refcount_order 0..6).
#include "engine/format/refcount.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace qcow2 {
namespace {

constexpr size_t kBlock = 512;  // the smallest cluster: 4096 one-bit entries, 64 eight-byte ones

uint64_t entries(uint32_t order) { return kBlock * 8 / (1U << order); }

// A value that uses every bit of the width differently per index.
uint64_t value_for(uint64_t index, uint32_t order) {
  uint64_t v = (index * 0x9e3779b97f4a7c15ULL) ^ (index << 7) ^ 0x5a;
  return v & refcount_max(order);
}

TEST(Refcount, MaxValues) {
  EXPECT_EQ(refcount_max(0), 1u);
  EXPECT_EQ(refcount_max(1), 3u);
  EXPECT_EQ(refcount_max(2), 15u);
  EXPECT_EQ(refcount_max(3), 0xffu);
  EXPECT_EQ(refcount_max(4), 0xffffu);
  EXPECT_EQ(refcount_max(5), 0xffffffffu);
  EXPECT_EQ(refcount_max(6), ~0ULL);
}

class RefcountOrder : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RefcountOrder, SetThenGetRoundTripsEveryEntry) {
  const uint32_t order = GetParam();
  std::vector<uint8_t> block(kBlock, 0);
  for (uint64_t i = 0; i < entries(order); ++i) set_refcount_at(block, i, order, value_for(i, order));
  for (uint64_t i = 0; i < entries(order); ++i) {
    ASSERT_EQ(refcount_at(block, i, order), value_for(i, order)) << "entry " << i;
  }
}

TEST_P(RefcountOrder, SettingOneEntryLeavesNeighboursAlone) {
  const uint32_t order = GetParam();
  const uint64_t max = refcount_max(order);
  // Start all-ones, clear one entry; then start all-zero, set one entry to max.
  for (uint64_t target : {uint64_t{0}, uint64_t{1}, entries(order) / 2 + 1, entries(order) - 1}) {
    std::vector<uint8_t> ones(kBlock, 0xff);
    set_refcount_at(ones, target, order, 0);
    std::vector<uint8_t> zeros(kBlock, 0);
    set_refcount_at(zeros, target, order, max);
    for (uint64_t i = 0; i < entries(order); ++i) {
      ASSERT_EQ(refcount_at(ones, i, order), i == target ? 0 : max) << "entry " << i;
      ASSERT_EQ(refcount_at(zeros, i, order), i == target ? max : 0) << "entry " << i;
    }
  }
}

TEST_P(RefcountOrder, MaxValueRoundTrips) {
  const uint32_t order = GetParam();
  std::vector<uint8_t> block(kBlock, 0);
  const uint64_t last = entries(order) - 1;
  set_refcount_at(block, last, order, refcount_max(order));
  EXPECT_EQ(refcount_at(block, last, order), refcount_max(order));
  EXPECT_EQ(block.back() & 0x80, 0x80) << "the last entry ends at the block's last bit";
  set_refcount_at(block, last, order, 0);
  EXPECT_EQ(block, std::vector<uint8_t>(kBlock, 0));
}

INSTANTIATE_TEST_SUITE_P(AllOrders, RefcountOrder, ::testing::Range(0U, 7U),
                         [](const auto& info) { return "order" + std::to_string(info.param); });

// Sub-byte widths fill each byte from the least significant bit (QEMU's get_refcount_ro0..2).
TEST(Refcount, OneBitPlacement) {
  std::vector<uint8_t> block(4, 0);
  set_refcount_at(block, 0, 0, 1);
  EXPECT_EQ(block[0], 0x01);
  set_refcount_at(block, 3, 0, 1);
  EXPECT_EQ(block[0], 0x09);
  set_refcount_at(block, 7, 0, 1);
  EXPECT_EQ(block[0], 0x89);
  set_refcount_at(block, 8, 0, 1);
  EXPECT_EQ(block[1], 0x01);
  set_refcount_at(block, 0, 0, 0);
  EXPECT_EQ(block[0], 0x88);

  const std::vector<uint8_t> raw{0xa5, 0x00, 0x00, 0x00};  // 1010 0101
  const uint64_t want[8] = {1, 0, 1, 0, 0, 1, 0, 1};
  for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(refcount_at(raw, i, 0), want[i]) << i;
}

TEST(Refcount, TwoBitPlacement) {
  std::vector<uint8_t> block(2, 0);
  set_refcount_at(block, 0, 1, 1);
  set_refcount_at(block, 1, 1, 2);
  set_refcount_at(block, 2, 1, 3);
  set_refcount_at(block, 3, 1, 0);
  // entry0 = bits 0-1, entry1 = bits 2-3, entry2 = bits 4-5, entry3 = bits 6-7
  EXPECT_EQ(block[0], 0b00'11'10'01);
  set_refcount_at(block, 4, 1, 3);
  EXPECT_EQ(block[1], 0x03);

  const std::vector<uint8_t> raw{0xe4};  // 11 10 01 00
  EXPECT_EQ(refcount_at(raw, 0, 1), 0u);
  EXPECT_EQ(refcount_at(raw, 1, 1), 1u);
  EXPECT_EQ(refcount_at(raw, 2, 1), 2u);
  EXPECT_EQ(refcount_at(raw, 3, 1), 3u);
}

TEST(Refcount, FourBitPlacementLowNibbleFirst) {
  std::vector<uint8_t> block(2, 0);
  set_refcount_at(block, 0, 2, 0x3);
  EXPECT_EQ(block[0], 0x03);
  set_refcount_at(block, 1, 2, 0xc);
  EXPECT_EQ(block[0], 0xc3);
  set_refcount_at(block, 2, 2, 0xf);
  EXPECT_EQ(block[1], 0x0f);

  const std::vector<uint8_t> raw{0x21, 0x43};
  EXPECT_EQ(refcount_at(raw, 0, 2), 1u);
  EXPECT_EQ(refcount_at(raw, 1, 2), 2u);
  EXPECT_EQ(refcount_at(raw, 2, 2), 3u);
  EXPECT_EQ(refcount_at(raw, 3, 2), 4u);
}

TEST(Refcount, WideEntriesAreBigEndian) {
  std::vector<uint8_t> block(32, 0);
  set_refcount_at(block, 1, 3, 0xab);
  EXPECT_EQ(block[1], 0xab);

  std::fill(block.begin(), block.end(), 0);
  set_refcount_at(block, 1, 4, 0x1234);
  EXPECT_EQ(block[2], 0x12);
  EXPECT_EQ(block[3], 0x34);

  std::fill(block.begin(), block.end(), 0);
  set_refcount_at(block, 1, 5, 0x01020304);
  EXPECT_EQ((std::vector<uint8_t>(block.begin() + 4, block.begin() + 8)),
            (std::vector<uint8_t>{1, 2, 3, 4}));

  std::fill(block.begin(), block.end(), 0);
  set_refcount_at(block, 2, 6, 0x0102030405060708ULL);
  EXPECT_EQ((std::vector<uint8_t>(block.begin() + 16, block.begin() + 24)),
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(block[15], 0);
  EXPECT_EQ(block[24], 0);

  const std::vector<uint8_t> raw{0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe};
  EXPECT_EQ(refcount_at(raw, 0, 6), 0x00000001fffffffeULL);
  EXPECT_EQ(refcount_at(raw, 1, 5), 0xfffffffeULL);
  EXPECT_EQ(refcount_at(raw, 3, 4), 0xfffeU);
  EXPECT_EQ(refcount_at(raw, 3, 3), 0x01U);
}

TEST(Refcount, ValuesAreMaskedToTheWidth) {
  // The contract says value fits; a stray high bit must still not spill into a neighbour.
  std::vector<uint8_t> block(1, 0);
  set_refcount_at(block, 1, 2, 0x1f);
  EXPECT_EQ(block[0], 0xf0);
  block[0] = 0;
  set_refcount_at(block, 0, 0, 3);
  EXPECT_EQ(block[0], 0x01);
}

}  // namespace
}  // namespace qcow2
