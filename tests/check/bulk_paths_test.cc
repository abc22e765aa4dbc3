// The check counts runs of sequential clusters and healthy groups of refcounts in bulk. These
// tests damage images made of long runs (preallocated, with and without snapshots) inside and
// across runs, and require the same result, to the last finding and statistic, as counting
// entry by entry (CheckOptions::bulk = false), as well as the findings the damage calls for.
#include <gtest/gtest.h>

#include <optional>

#include "tests/check/check_helpers.h"

namespace qcow2::test {
namespace {

// Checks `path` both ways and requires identical JSON reports; returns the bulk result.
Checked check_both_ways(const std::string& path) {
  CheckOptions entry_by_entry;
  entry_by_entry.bulk = false;
  Checked bulk = check_file(path);
  Checked slow = check_file(path, entry_by_entry);
  if (bulk.ok && slow.ok) {
    EXPECT_EQ(check_to_json(*bulk.img, bulk.res).dump(1), check_to_json(*slow.img, slow.res).dump(1))
        << "bulk: " << bulk.describe() << "\nentry by entry: " << slow.describe();
  }
  return bulk;
}

// 4 MiB of 4 KiB clusters, preallocated: two L2 tables of 512 sequential data clusters each.
std::string runs_image(const TempDir& dir) {
  const std::string p = dir.file("runs.qcow2");
  if (!make_image(p, "4M", {"cluster_size=4096", "preallocation=metadata"})) return "";
  return p;
}

// The same in 64 KiB clusters with 4 snapshots, then 1 MiB rewritten: shared runs (count 5,
// COPIED clear) and new ones (count 1, COPIED set).
std::string snapshot_runs_image(const TempDir& dir) {
  const std::string p = dir.file("snaps.qcow2");
  if (!make_image(p, "64M", {"preallocation=metadata"})) return "";
  for (const char* name : {"s1", "s2", "s3", "s4"})
    if (!qemu_img({"snapshot", "-c", name, p}).ok()) return "";
  if (!qemu_io(p, {"write -P 0x21 0 1M"})) return "";
  return p;
}

// Each test starts from a fresh runs_image() and its layout (4 KiB clusters).
class BulkRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    p = runs_image(dir_);
    ASSERT_FALSE(p.empty());
    layout.emplace(p, 8, 12);
  }
  uint64_t entry_at(uint64_t index, uint64_t table) const { return layout->l2_entry(index, table); }
  // The host cluster entry `index` of L2 table `table` maps.
  uint64_t data_cluster(uint64_t index, uint64_t table) const {
    return layout->cluster_of(peek(p, entry_at(index, table), 8) & kOffsetMask);
  }

  TempDir dir_;
  std::string p;
  std::optional<Layout> layout;
};

TEST_F(BulkRuns, HealthyRunsAreGoodAndAgreeWithQemu) {
  const Checked c = check_both_ways(p);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  const QemuCheck q = qemu_check(p);
  ASSERT_TRUE(q.ran) << q.err;
  EXPECT_EQ(c.res.stats.allocated_clusters, q.allocated_clusters);
  EXPECT_EQ(c.res.stats.fragmented_clusters, q.fragmented_clusters);
  EXPECT_EQ(c.res.stats.image_end_offset, q.image_end_offset);
}

TEST_F(BulkRuns, TwoL1EntriesSharingOneRunOfTablesAreCountedTwice) {
  ASSERT_TRUE(poke(p, layout->l1_entry(1), 8, peek(p, layout->l1_entry(0), 8)));
  const Checked c = check_both_ways(p);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kRefcountError, 4);
  EXPECT_GE(c.res.stats.errors, 512u) << c.describe();  // every data cluster of table 0
  EXPECT_GE(c.res.stats.leaks, 513u) << c.describe();   // table 1 and its data
  expect_qemu_counts_agree(p, c);
}

TEST_F(BulkRuns, DamageInsideARunIsFoundAtItsEntry) {
  // Entry 100 of table 1 points into table 0's run; entry 300 of table 0 loses COPIED.
  const uint64_t lost = data_cluster(100, 1);
  ASSERT_TRUE(poke(p, entry_at(100, 1), 8, peek(p, entry_at(5, 0), 8)));
  ASSERT_TRUE(poke(p, entry_at(300, 0), 8, peek(p, entry_at(300, 0), 8) & ~kEntryCopied));
  const Checked c = check_both_ways(p);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kRefcountError, 4);
  EXPECT_EQ(c.res.stats.errors, 1u) << c.describe();
  EXPECT_EQ(c.res.stats.leaks, 1u) << c.describe();
  EXPECT_EQ(c.res.stats.copied_mismatches, 1u) << c.describe();
  bool lost_named = false;
  for (const Finding& f : c.with_code("refcount-leak")) lost_named |= f.cluster == opt(lost);
  EXPECT_TRUE(lost_named) << c.describe();
  expect_qemu_counts_agree(p, c);
}

TEST_F(BulkRuns, RefcountsWrongInsideAHealthyGroup) {
  const uint64_t raised = data_cluster(17, 0);
  const uint64_t zeroed = data_cluster(18, 1);
  ASSERT_TRUE(poke(p, layout->refcount_entry(raised), 2, 2));
  ASSERT_TRUE(poke(p, layout->refcount_entry(zeroed), 2, 0));
  const Checked c = check_both_ways(p);
  EXPECT_EQ(c.res.stats.leaks, 1u) << c.describe();
  EXPECT_EQ(c.res.stats.errors, 1u) << c.describe();
  ASSERT_EQ(c.with_code("refcount-leak").size(), 1u) << c.describe();
  EXPECT_EQ(c.with_code("refcount-leak")[0].cluster, opt(raised));
  ASSERT_EQ(c.with_code("refcount-zero").size(), 1u) << c.describe();
  EXPECT_EQ(c.with_code("refcount-zero")[0].cluster, opt(zeroed));
  expect_qemu_counts_agree(p, c);
}

TEST(BulkSnapshotRuns, HealthyAndDamaged) {
  TempDir dir;
  const std::string p = snapshot_runs_image(dir);
  ASSERT_FALSE(p.empty());
  {
    const Checked c = check_both_ways(p);
    QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  }
  Layout l(p);
  // A rewritten cluster (refcount 1) loses COPIED; a shared one (refcount 5) gains a reference.
  ASSERT_TRUE(poke(p, l.l2_entry(3), 8, peek(p, l.l2_entry(3), 8) & ~kEntryCopied));
  const uint64_t shared = l.cluster_of(peek(p, l.l2_entry(40), 8) & kOffsetMask);
  ASSERT_TRUE(poke(p, l.refcount_entry(shared), 2, 6));
  const Checked c = check_both_ways(p);
  EXPECT_EQ(c.res.stats.copied_mismatches, 1u) << c.describe();
  EXPECT_EQ(c.res.stats.leaks, 1u) << c.describe();
  expect_qemu_counts_agree(p, c);
}

}  // namespace
}  // namespace qcow2::test
