// guest_map() against `qemu-img map`: cut both extent lists at every boundary of either and
// check that each piece says the same thing (same kind, same host offset).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/io/image.h"
#include "engine/walk/guest_map.h"
#include "tests/support/fixtures.h"
#include "tests/support/map_extents.h"

namespace qcow2::test {
namespace {

std::string describe(const GuestExtent& g) {
  return fmt::format("guest_map [0x{:x}, +0x{:x}) {} host {}", g.guest_offset, g.length,
                     extent_kind_name(g.kind), g.has_host ? fmt::format("0x{:x}", g.host_offset) : "-");
}

std::string describe(const MapExtent& x) {
  return fmt::format("qemu-img [0x{:x}, +0x{:x}) depth {} present {} zero {} data {} offset {}",
                     x.start, x.length, x.depth, x.present, x.zero, x.data,
                     x.offset ? fmt::format("0x{:x}", *x.offset) : "-");
}

// Whether one piece [lo, hi) of a guest extent agrees with the qemu-img extent covering it.
void expect_same(const GuestExtent& g, const MapExtent& x, uint64_t lo) {
  const std::string ctx = describe(g) + " vs " + describe(x);
  if (x.depth == 0 && x.present && x.offset) {
    // qemu-img also says "zero" for data over a hole in the file (preallocation=metadata).
    ASSERT_TRUE(g.kind == ExtentKind::kData || g.kind == ExtentKind::kZero) << ctx;
    ASSERT_TRUE(g.has_host) << ctx;
    EXPECT_EQ(g.host_offset + (lo - g.guest_offset), *x.offset + (lo - x.start)) << ctx;
    if (!x.zero) {
      EXPECT_EQ(g.kind, ExtentKind::kData) << ctx;
    }
    if (g.kind == ExtentKind::kZero) {
      EXPECT_TRUE(x.zero) << ctx;
    }
  } else if (is_compressed_extent(x)) {
    EXPECT_EQ(g.kind, ExtentKind::kCompressed) << ctx;
  } else if (x.depth == 0 && x.present) {
    EXPECT_TRUE(x.zero) << ctx;
    EXPECT_EQ(g.kind, ExtentKind::kZero) << ctx;
    EXPECT_FALSE(g.has_host) << ctx;
  } else {
    // Not in this layer (an unallocated subcluster of an allocated cluster has an offset
    // but is not present).
    EXPECT_EQ(g.kind, ExtentKind::kUnallocated) << ctx;
  }
}

class GuestMapVsQemuMap : public ::testing::TestWithParam<FixtureSpec> {};

TEST_P(GuestMapVsQemuMap, ActiveLayerMatches) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const FixtureSpec spec = GetParam();
  const std::string image = build_fixture(dir, spec);
  ASSERT_FALSE(image.empty());
  auto img = Image::open(image);
  ASSERT_TRUE(img.ok()) << img.status().message();
  ASSERT_TRUE((*img)->walkable()) << (*img)->walk_status().message();
  auto l1 = (*img)->read_active_l1();
  ASSERT_TRUE(l1.ok()) << l1.status().message();
  auto mapped = guest_map(**img, (*img)->header().l1_table_offset, *l1);
  ASSERT_TRUE(mapped.ok()) << mapped.status().message();
  const auto qemu = map_extents(qemu_img_json({"map", image}, dir.path()));
  ASSERT_FALSE(qemu.empty());

  // Both lists cover the whole disk, in order and without gaps.
  uint64_t end = 0;
  for (const auto& g : *mapped) {
    ASSERT_EQ(g.guest_offset, end) << describe(g);
    ASSERT_GT(g.length, 0u) << describe(g);
    end += g.length;
  }
  EXPECT_EQ(end, spec.virtual_size);
  EXPECT_EQ(qemu.back().end(), spec.virtual_size);

  size_t i = 0, j = 0;
  while (i < mapped->size() && j < qemu.size()) {
    const GuestExtent& g = (*mapped)[i];
    const MapExtent& x = qemu[j];
    const uint64_t lo = std::max(g.guest_offset, x.start);
    const uint64_t hi = std::min(g.guest_offset + g.length, x.end());
    if (lo < hi) expect_same(g, x, lo);
    if (g.guest_offset + g.length <= x.end())
      ++i;
    else
      ++j;
  }
}

INSTANTIATE_TEST_SUITE_P(walk, GuestMapVsQemuMap, ::testing::ValuesIn(standard_fixtures()),
                         FixtureName());

}  // namespace
}  // namespace qcow2::test
