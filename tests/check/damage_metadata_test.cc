// Damage outside the cluster tables: the snapshot table, header fields and feature bits,
// persistent bitmaps, and missing backing or data files.
#include <gtest/gtest.h>

#include "tests/check/damage_recipes.h"

namespace qcow2::test {
namespace {

using Codes = std::vector<std::string>;

TEST(SnapshotTable, OverlongNameInTheSecondEntryIsSnapshotTableIndex1) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_name_length(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kSnapshotDamaged, 5);
  const auto f = c.with_code("snapshot-table");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kSnapshot);
  EXPECT_EQ(f[0].index, opt(1)) << "entry 0 is intact";
  // The bytes concerned are the damaged entry's: the table offset plus the good entry before it.
  EXPECT_EQ(f[0].table_offset, opt(l.snapshots()));
  ASSERT_TRUE(f[0].file_offset.has_value());
  EXPECT_GT(*f[0].file_offset, l.snapshots());
  EXPECT_EQ(*f[0].file_offset, c.img->snapshots().snapshots[0].entry_offset + c.img->snapshots().snapshots[0].entry_bytes);
  EXPECT_NE(f[0].fix.find("to 1"), std::string::npos) << "the fix keeps the good entry: " << f[0].fix;
}

TEST(SnapshotTable, OverlongNameInsideTheFileMakesTheTableOverlapData) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_name_into_data(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  // Like QEMU, we accept any name that fits in the file (the format sets no limit but u16),
  // so the entry parses; the damage shows as the table reaching over the last data cluster.
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  EXPECT_EQ(c.problem_codes(), (Codes{"overlap", "refcount-error"})) << c.describe();
  const auto f = c.with_code("overlap");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].cluster, opt(d.cluster));
  EXPECT_NE(f[0].message.find("snapshot table"), std::string::npos) << f[0].message;
  expect_qemu_counts_agree(d.path, c);
}

TEST(SnapshotTable, SnapshotCountOverQemusLimitIsSnapshotDamage) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_count(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kSnapshotDamaged, 5);
  const auto h = c.with_code("header-nb_snapshots");
  ASSERT_EQ(h.size(), 1u) << c.describe();
  EXPECT_EQ(h[0].category, Category::kSnapshot);
  EXPECT_EQ(h[0].file_offset, opt(60));
  const auto t = c.with_code("snapshot-table");
  ASSERT_EQ(t.size(), 1u) << c.describe();
  EXPECT_EQ(t[0].index, opt(0)) << "no entry can be trusted";
  // Only the snapshot side is affected: the active image is walked and found consistent
  // apart from the clusters only the (now unreadable) snapshots referenced.
  for (const std::string& code : c.problem_codes())
    EXPECT_TRUE(code == "header-nb_snapshots" || code == "snapshot-table" || code == "refcount-leak")
        << code << ": " << c.describe();
}

TEST(SnapshotTable, UnalignedSnapshotL1OffsetIsSnapshotL1) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_l1_unaligned(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kSnapshotDamaged, 5);
  const auto f = c.with_code("snapshot-l1");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kSnapshot);
  EXPECT_EQ(f[0].index, opt(0));
  EXPECT_EQ(f[0].file_offset, opt(d.at)) << "the snapshot's table entry";
  // Clusters only snapshot 0 reached are now leaks; nothing else may be wrong.
  for (const std::string& code : c.problem_codes())
    EXPECT_TRUE(code == "snapshot-l1" || code == "refcount-leak") << code << ": " << c.describe();
  expect_qemu_counts_agree(d.path, c);
}

TEST(Header, CorruptBitIsCorruptFlagStatus) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::corrupt_bit(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorruptFlag, 3);
  EXPECT_EQ(c.problem_codes(), Codes{"header-corrupt-bit"}) << c.describe();
  const auto f = c.with_code("header-corrupt-bit");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].category, Category::kFlag);
  EXPECT_EQ(f[0].file_offset, opt(72));
  // qemu-img check ignores the bit (no leaks, no corruptions): so do our counters.
  expect_qemu_counts_agree(d.path, c);
}

TEST(Header, DirtyBitIsInformationOnly) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::dirty_bit(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  EXPECT_EQ(c.problem_codes(), Codes{}) << c.describe();
  const auto f = c.with_code("header-dirty-bit");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kInfo);
  EXPECT_EQ(f[0].file_offset, opt(72));
  expect_qemu_counts_agree(d.path, c);
}

TEST(Header, UnknownIncompatibleBitIsCorrupt) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::unknown_incompatible_bit(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  EXPECT_EQ(c.problem_codes(), Codes{"header-incompatible_features"}) << c.describe();
  const auto f = c.with_code("header-incompatible_features");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].file_offset, opt(72));
  EXPECT_NE(f[0].message.find("0x100000"), std::string::npos) << f[0].message;
  // QEMU refuses to open such an image at all.
  EXPECT_FALSE(qemu_check(d.path).ran);
}

TEST(Header, UnknownCompatibleBitIsInformationOnly) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::unknown_compatible_bit(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  EXPECT_EQ(c.problem_codes(), Codes{}) << c.describe();
  EXPECT_TRUE(c.has("header-unknown-compatible")) << c.describe();
  expect_qemu_counts_agree(d.path, c);
}

TEST(Header, ClusterBitsTooLargeStopsTheWalkWithAHeaderFinding) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::cluster_bits_40(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  EXPECT_FALSE(c.img->walkable());
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  const auto f = c.with_code("header-cluster_bits");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kCorrupt);
  EXPECT_EQ(f[0].file_offset, opt(20));
  EXPECT_NE(f[0].message.find("40"), std::string::npos) << f[0].message;
}

TEST(Bitmap, InUseFlagIsAWarningThatKeepsTheStatus) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::bitmap_in_use(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  EXPECT_EQ(c.problem_codes(), Codes{}) << c.describe();
  const auto f = c.with_code("bitmap-in-use");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kInfo);
  EXPECT_EQ(f[0].severity, FindingSeverity::kWarning) << "it asks for action";
  // The bytes concerned: the flags field of the directory entry, bit 0.
  EXPECT_EQ(f[0].file_offset, opt(d.at + 12));
  EXPECT_EQ(f[0].width, 4u);
  EXPECT_EQ(f[0].mask, kBitmapInUse);
  EXPECT_NE(f[0].fix.find("qemu-img bitmap --remove"), std::string::npos) << f[0].fix;
  expect_qemu_counts_agree(d.path, c);
}

TEST(Bitmap, TableEntryWithReservedBitsIsBitmapTableEntry) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::bitmap_table_reserved(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  const auto f = c.with_code("bitmap-table-entry");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kCorrupt);
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].index, opt(d.before[1]));
  // The entry is not trusted, so the data cluster it named is not counted: a leak.
  EXPECT_EQ(c.problem_codes(), (Codes{"bitmap-table-entry", "refcount-leak"})) << c.describe();
  const auto leak = c.with_code("refcount-leak");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].cluster, opt(d.cluster));
}

// A missing linked file damages nothing in the image: a warning that keeps the status.
TEST(LinkedFiles, MissingBackingFileIsAWarningUnlessSkipped) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::backing_missing(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  EXPECT_EQ(c.problem_codes(), Codes{}) << c.describe();
  const auto f = c.with_code("backing-file-missing");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].severity, FindingSeverity::kWarning);
  EXPECT_NE(f[0].message.find("base.qcow2"), std::string::npos);

  CheckOptions opts;
  opts.skip_backing = true;
  const Checked alone = check_file(d.path, opts);
  ASSERT_TRUE(alone.ok);
  QCOW2_EXPECT_STATUS(alone, ImageStatus::kGood, 0);
  EXPECT_EQ(alone.problem_codes(), Codes{}) << alone.describe();
  EXPECT_FALSE(alone.has("backing-file-missing")) << alone.describe();
}

TEST(LinkedFiles, MissingExternalDataFileIsADataFileMissingWarning) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::data_file_missing(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
  EXPECT_EQ(c.problem_codes(), Codes{}) << c.describe();
  const auto f = c.with_code("data-file-missing");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].severity, FindingSeverity::kWarning);
  EXPECT_NE(f[0].message.find("a.data"), std::string::npos);
}

}  // namespace
}  // namespace qcow2::test
