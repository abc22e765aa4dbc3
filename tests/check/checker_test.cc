// The checker on healthy images: every standard fixture, made by QEMU's own tools, must check
// clean, and the counters qemu-img check prints must be ours too. The damage classes are in
// damage_*_test.cc, the read-only guarantee in never_writes_test.cc.
#include <gtest/gtest.h>

#include "tests/check/check_helpers.h"

namespace qcow2::test {
namespace {

class HealthyImage : public ::testing::TestWithParam<FixtureSpec> {};

TEST_P(HealthyImage, ChecksCleanAndAgreesWithQemuImgCheck) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const FixtureSpec& spec = GetParam();
  TempDir dir;
  const std::string image = build_fixture(dir, spec);
  ASSERT_FALSE(image.empty());

  const Checked c = check_file(image);  // also asserts the bytes are unchanged
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.res.status, ImageStatus::kGood) << c.describe();
  EXPECT_EQ(exit_code(c.res.status), 0);
  for (const Finding& f : c.res.findings)
    EXPECT_EQ(f.category, Category::kInfo) << "unexpected finding on a healthy image: " << c.describe();
  EXPECT_EQ(c.res.stats.errors, 0u) << c.describe();
  EXPECT_EQ(c.res.stats.copied_mismatches, 0u) << c.describe();

  const QemuCheck q = qemu_check(image);
  ASSERT_TRUE(q.ran) << "qemu-img check failed (exit " << q.exit_code << "): " << q.err;
  ASSERT_EQ(q.exit_code, 0) << "QEMU itself finds the fixture unhealthy: " << q.err;
  EXPECT_EQ(q.leaks, 0u);
  EXPECT_EQ(q.corruptions, 0u);
  EXPECT_EQ(c.res.stats.leaks, q.leaks);
  EXPECT_EQ(corruption_count(c.res), q.corruptions);
  EXPECT_EQ(c.res.stats.image_end_offset, q.image_end_offset);
  EXPECT_EQ(c.res.stats.total_clusters, q.total_clusters);
  EXPECT_EQ(c.res.stats.allocated_clusters, q.allocated_clusters);
  EXPECT_EQ(c.res.stats.fragmented_clusters, q.fragmented_clusters);
  EXPECT_EQ(c.res.stats.compressed_clusters, q.compressed_clusters);
}

// qemu-img counts every compressed cluster as fragmented and judges a normal cluster against
// the previous *normal* one of the same table, whatever compressed clusters lie between.
TEST(HealthyCounters, FragmentationAroundACompressedClusterMatchesQemu) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("frag.qcow2");
  ASSERT_TRUE(make_image(image, "64M"));
  // Host layout: normal, the compressed stream's cluster, normal: the second normal cluster
  // does not follow the first.
  ASSERT_TRUE(qemu_io(image, {"write -P 0x11 0 64k", "write -c -P 0x22 64k 64k", "write -P 0x33 128k 64k"}));
  const Checked c = check_file(image);
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.res.status, ImageStatus::kGood) << c.describe();
  const QemuCheck q = qemu_check(image);
  ASSERT_TRUE(q.ran) << q.err;
  EXPECT_EQ(q.fragmented_clusters, 2u) << "the fixture no longer has the intended layout";
  EXPECT_EQ(c.res.stats.fragmented_clusters, q.fragmented_clusters);
  EXPECT_EQ(c.res.stats.allocated_clusters, q.allocated_clusters);
  EXPECT_EQ(c.res.stats.compressed_clusters, q.compressed_clusters);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HealthyImage, ::testing::ValuesIn(standard_fixtures()), FixtureName());

}  // namespace
}  // namespace qcow2::test
