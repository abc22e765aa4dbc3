// The check's progress as qcow2-dump's progress line and the mount's `status` see it: rising
// percents, 50 and 80 exactly at the ends of the first two passes, and the bytes of tables read.
#include <gtest/gtest.h>

#include "tests/check/check_helpers.h"

namespace qcow2::test {
namespace {

TEST(checkProgress, RisesThroughThePassesAndCountsTableBytes) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("p.qcow2");
  // 4 KiB clusters, 8 MiB written: 4 L2 tables (512 entries each) and 2 refcount blocks.
  ASSERT_TRUE(make_image(image, "64M", {"cluster_size=4096"}));
  ASSERT_TRUE(qemu_io(image, {"write -P 0x11 0 8M"}));
  std::vector<unsigned> seen;
  uint64_t bytes = 0;
  std::vector<uint64_t> bytes_seen;
  CheckOptions opts;
  opts.progress = [&](unsigned pct) {
    seen.push_back(pct);
    bytes_seen.push_back(bytes);
  };
  opts.table_bytes = &bytes;
  Checked c = check_file(image, opts);
  ASSERT_TRUE(c.ok);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 0u);
  EXPECT_EQ(seen.back(), 100u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]) << "each call a new, higher percent";
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 50u), 1);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 80u), 1);
  EXPECT_GT(seen.size(), 4u) << "more than the passes' ends: the tables in between";
  EXPECT_EQ(bytes_seen.back(), bytes);
  EXPECT_GE(bytes, 5u * 4096) << "at least the L2 tables and a refcount block";
  for (size_t i = 1; i < bytes_seen.size(); ++i) EXPECT_LE(bytes_seen[i - 1], bytes_seen[i]);
}

}  // namespace
}  // namespace qcow2::test
