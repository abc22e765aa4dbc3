// One role per cluster: a pointer into another structure is a cross-link finding and its target
// is never decoded as what the pointer claims; tables shared by several pointers are decoded
// once and counted by reference. And the verdicts a hostile reading found wrong.
#include <gtest/gtest.h>

#include "engine/check/layout.h"
#include "tests/check/all_recipes.h"

namespace qcow2::test {
namespace {

using Codes = std::vector<std::string>;

// No proposal writes into the cluster `c` (a structure a damaged pointer named).
void expect_no_proposal_in(const Checked& c, uint64_t cluster) {
  for (const Finding& f : c.res.findings)
    if (f.proposed) {
      EXPECT_NE(*f.file_offset >> 16, cluster) << f.code << " proposes to write into it: " << f.message;
    }
}

TEST(CrossLink, L1EntryIntoTheRefcountTableIsNotReadAsAnL2Table) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l1_into_reftable(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  const auto f = c.with_code("l1-cross-link");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_NE(f[0].message.find("refcount table"), std::string::npos) << f[0].message;
  EXPECT_EQ(c.res.stats.l2.used, 0u) << "the refcount table was scanned as an L2 table";
  // Had it been read as one, its entries (refcount block offsets) would have been counted as
  // data: refcount errors, and advice to raise refcounts and set COPIED inside the table.
  EXPECT_FALSE(c.has("refcount-error")) << c.describe();
  EXPECT_FALSE(c.has("copied-l2")) << c.describe();
  expect_no_proposal_in(c, d.cluster);
  // The lost L2 table is the one leaked cluster that reads as one: it is proposed back.
  ASSERT_TRUE(f[0].proposed.has_value()) << c.describe();
  EXPECT_EQ(*f[0].proposed, d.before[0]);
  for (const Finding& leak : c.with_code("refcount-leak")) EXPECT_FALSE(leak.proposed.has_value()) << leak.message;
}

TEST(CrossLink, BitmapDirectoryInTheHeaderClusterIsNotDecoded) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::bitmap_directory_at_header(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  EXPECT_TRUE(c.img->bitmaps().bitmaps.empty()) << "header bytes were decoded as bitmap entries";
  EXPECT_TRUE(c.img->bitmaps().cross_linked);
  EXPECT_NE(c.img->bitmaps().error.find("header cluster"), std::string::npos) << c.img->bitmaps().error;
  EXPECT_TRUE(c.has("bitmap-directory-cross-link")) << c.describe();
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
}

TEST(CrossLink, SnapshotTableInTheActiveL1IsNotDecoded) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_table_in_l1(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  EXPECT_TRUE(c.img->snapshots().snapshots.empty()) << "L1 entries were decoded as snapshot entries";
  ASSERT_TRUE(c.img->snapshots().bad_index.has_value());
  EXPECT_EQ(*c.img->snapshots().bad_index, 0u);
  EXPECT_NE(c.img->snapshots().error.find("active L1 table"), std::string::npos) << c.img->snapshots().error;
  QCOW2_EXPECT_STATUS(c, ImageStatus::kSnapshotDamaged, 5);
}

TEST(CrossLink, RefcountBlockNamedTwiceIsDecodedForTheFirstEntryOnly) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::refblock_twice(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  EXPECT_EQ(c.problem_codes(), Codes{"reftable-cross-link"}) << c.describe();
  const auto f = c.with_code("reftable-cross-link");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].index, opt(1));
  EXPECT_NE(f[0].message.find("refcount block 0"), std::string::npos) << f[0].message;
  auto layout = qcow2::Layout::build(*c.img);
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(layout->block_ok(0));
  EXPECT_EQ(layout->block(1), qcow2::Layout::Block::kCrossLink);
}

TEST(CrossLink, SnapshotsSharingOneL1TableDecodeItOnceAndCountItTwice) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_l1_shared(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  auto layout = qcow2::Layout::build(*c.img);
  ASSERT_TRUE(layout.ok());
  ASSERT_EQ(layout->l1_tables().size(), 2u) << "the active table and the one shared table";
  EXPECT_EQ(layout->l1_tables()[1].times, 2u);
  EXPECT_EQ(layout->snapshot_l1(0).table, layout->snapshot_l1(1).table);
  // The shared table's cluster has refcount 1 but two references; the second snapshot's own
  // table lost its only one.
  EXPECT_TRUE(c.has("refcount-error") || c.has("cluster-shared")) << c.describe();
  bool old_table_leaks = false;
  for (const Finding& f : c.with_code("refcount-leak")) old_table_leaks |= f.cluster == opt(d.cluster);
  EXPECT_TRUE(old_table_leaks) << c.describe();
}

TEST(Verdict, CompressedStreamStartingPastTheEndIsABadStreamNotACrash) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::compressed_offset_in_partial_sector(dir);
  ASSERT_FALSE(d.path.empty());
  ASSERT_NE(damage::file_size(d.path) % 512, 0u);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  const auto f = c.with_code("l2-compressed-bad-stream");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_NE(f[0].message.find("past the end"), std::string::npos) << f[0].message;
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);

  const CommandResult r = run_dump({"-m", "error", d.path});
  EXPECT_EQ(r.exit_code, 6) << r.describe();
}

TEST(Verdict, ZeroFlagOnAnAllocatedVersion2EntryIsReported) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::v2_zero_flag_allocated(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  const auto f = c.with_code("l2-zero-flag-v2");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].mask, 1u);
  EXPECT_EQ(f[0].proposed, opt(d.before[0]));
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
}

TEST(Verdict, DataClusterCutByTheEndOfTheFileIsReported) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::data_cluster_cut(dir);
  ASSERT_FALSE(d.path.empty());
  CheckOptions per_entry;
  per_entry.bulk = false;
  for (const CheckOptions& o : {CheckOptions{}, per_entry}) {
    const Checked c = check_file(d.path, o);
    ASSERT_TRUE(c.ok);
    const auto f = c.with_code("l2-cluster-cut");
    ASSERT_EQ(f.size(), 1u) << c.describe();
    EXPECT_EQ(f[0].file_offset, opt(d.at));
    QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  }
}

TEST(Verdict, CryptMethodThatCannotBeTrueIsReported) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::crypt_method_aes(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  const auto f = c.with_code("header-crypt_method");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_NE(f[0].message.find("0x11 repeated"), std::string::npos) << f[0].message;
  EXPECT_EQ(f[0].file_offset, opt(32));
  EXPECT_EQ(f[0].proposed, opt(0));
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
}

TEST(Verdict, LuksWithoutItsHeaderExtensionIsReported) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::small_image(dir);
  ASSERT_FALSE(p.empty());
  ASSERT_TRUE(poke(p, 32, 4, 2));
  const Checked c = check_file(p);
  ASSERT_TRUE(c.ok);
  bool said = false;
  for (const Finding& f : c.with_code("header-crypt_method"))
    said |= f.message.find("no encryption header extension") != std::string::npos;
  EXPECT_TRUE(said) << c.describe();
}

// Where two structures of equal standing claim one cluster, neither is trusted: nothing is
// proposed inside it, and what the decoded one seems to say is suspect.
void expect_nothing_written_into(const damage::Damaged& d) {
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  expect_no_proposal_in(c, d.cluster);
  for (const Finding& f : c.res.findings)
    if (f.table_offset && (*f.table_offset >> 16) == d.cluster) {
      EXPECT_TRUE(f.suspect || f.category == Category::kInfo) << f.code << ": " << f.message;
      EXPECT_FALSE(f.proposed.has_value()) << f.code;
    }
}

TEST(Contested, ARefcountBlockThatIsTheLiveL2TableGetsNoRefcountWrites) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::reftable_on_l2(dir);
  ASSERT_FALSE(d.path.empty());
  expect_nothing_written_into(d);
}

TEST(Contested, ASnapshotL1ThatIsARefcountBlockGetsNoEntryWrites) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::snapshot_l1_on_refblock(dir);
  ASSERT_FALSE(d.path.empty());
  expect_nothing_written_into(d);
}

TEST(Contested, AnOldBitmapTableDoesNotPassForTheLostL2Table) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::bitmap_table_on_l2(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  for (const Finding& f : c.with_code("l1-cross-link"))
    EXPECT_FALSE(f.proposed.has_value()) << "the L1 entry was re-pointed: " << f.fix;
  expect_nothing_written_into(d);
}

TEST(Verdict, AnL1EntryWithFlagsButNoOffsetIsALostTable) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l1_flags_without_table(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  const auto f = c.with_code("l1-flags-without-table");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  // The one leaked cluster that reads as an active L2 table is proposed back.
  EXPECT_EQ(f[0].proposed, opt(d.before[0])) << c.describe();
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
}

TEST(Verdict, ARestoredEntryGetsCopiedFromItsRefcountNotFromTheDamage) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l2_unaligned_without_copied(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  const auto f = c.with_code("l2-unaligned");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].proposed, opt(d.before[0])) << "COPIED set: refcount 1 in the active table";
}

}  // namespace
}  // namespace qcow2::test
