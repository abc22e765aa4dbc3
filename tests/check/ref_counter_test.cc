// RefCounter in each of its layouts: counts stay exact past every saturation point and the
// COPIED flags stay exact in every combination, whatever the layout stores them in.
#include "engine/check/ref_counter.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>

namespace qcow2 {
namespace {

struct Expected {
  uint64_t count = 0;
  bool copied = false;
  bool not_copied = false;
};

// Applies the same random operations to the counter and to a plain map, then compares.
void exercise(uint64_t max_expected, unsigned seed) {
  constexpr uint64_t kClusters = 4099;  // odd: the last nibble is half a byte
  RefCounter rc(kClusters, max_expected);
  std::map<uint64_t, Expected> want;
  std::mt19937_64 rng(seed);
  for (int op = 0; op < 200000; ++op) {
    const uint64_t c = rng() % kClusters;
    switch (rng() % 4) {
      case 0:
      case 1: {
        const uint64_t n = 1 + rng() % (rng() % 8 == 0 ? 40 : 3);
        rc.add(c, n);
        want[c].count += n;
        break;
      }
      case 2:
        if (want[c].count == 0) break;  // the walk marks only what it has counted
        rc.mark_active(c, true);
        want[c].copied = true;
        break;
      default:
        if (want[c].count == 0) break;
        rc.mark_active(c, false);
        want[c].not_copied = true;
        break;
    }
  }
  for (uint64_t c = 0; c < kClusters; ++c) {
    const Expected e = want.count(c) ? want[c] : Expected{};
    ASSERT_EQ(rc.get(c), e.count) << "cluster " << c << ", max_expected " << max_expected;
    ASSERT_EQ(rc.active_copied(c), e.copied) << "cluster " << c;
    ASSERT_EQ(rc.active_not_copied(c), e.not_copied) << "cluster " << c;
    ASSERT_EQ(rc.active(c), e.copied || e.not_copied) << "cluster " << c;
  }
}

TEST(RefCounter, EveryLayoutKeepsCountsAndFlagsExact) {
  for (uint64_t max_expected : {2, 3, 4, 6, 7, 14, 15, 300, 70000})
    for (unsigned seed : {1u, 2u, 3u}) exercise(max_expected, seed);
}

TEST(RefCounter, HealthyStatesOfASnapshotImageTakeFourBitsACluster) {
  // 4 snapshots: counts up to 6. Shared clusters are active without COPIED, new ones with it.
  RefCounter rc(1 << 20, 6);
  for (uint64_t c = 0; c < (1 << 20); ++c) {
    const uint64_t refs = c % 2 ? 5 : 1;
    rc.add(c, refs);
    rc.mark_active(c, refs == 1);
  }
  EXPECT_EQ(rc.memory_bytes(), (1u << 20) / 2);  // nothing went to the exact map
  EXPECT_EQ(rc.get(3), 5u);
  EXPECT_TRUE(rc.active_not_copied(3));
  EXPECT_TRUE(rc.active_copied(4));
}

TEST(RefCounter, WithoutSnapshotsCountsAndFlagsShareANibble) {
  RefCounter rc(1 << 20, 2);
  EXPECT_EQ(rc.counter_bits(), 2u);
  EXPECT_EQ(rc.memory_bytes(), (1u << 20) / 2);
  rc.add(7, 1);
  rc.mark_active(7, true);
  rc.add(7, 5);  // a cross-link: goes to the overflow map
  EXPECT_EQ(rc.get(7), 6u);
  EXPECT_TRUE(rc.active_copied(7));
  EXPECT_FALSE(rc.active_not_copied(7));
}

}  // namespace
}  // namespace qcow2
