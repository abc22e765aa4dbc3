// Refcount damage: leaks, COPIED mismatches, refcounts too low or missing, bad refcount table
// entries and clusters two structures claim. Each test damages one thing on a fresh image
// and asserts the finding, where it points, the status, and that qemu-img check counts the
// same leaks and corruptions where it sees the same problem.
#include <gtest/gtest.h>

#include "tests/check/damage_recipes.h"

namespace qcow2::test {
namespace {

using Codes = std::vector<std::string>;

TEST(RefcountLeak, RaisedRefcountOfADataClusterIsALeakAndACopiedMismatch) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::raise_data_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  // Refcount 2 with COPIED set: one too many (a leak), and COPIED now says "refcount 1".
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCopied, 2);
  EXPECT_EQ(c.problem_codes(), (Codes{"copied-l2", "refcount-leak"})) << c.describe();
  const auto leak = c.with_code("refcount-leak");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].category, Category::kLeak);
  EXPECT_EQ(leak[0].cluster, opt(d.cluster));
  EXPECT_EQ(leak[0].file_offset, opt(d.at)) << "the refcount entry's bytes";
  const auto copied = c.with_code("copied-l2");
  ASSERT_EQ(copied.size(), 1u);
  EXPECT_EQ(copied[0].file_offset, opt(l.l2_entry(0))) << "the L2 entry whose flag is wrong";
  EXPECT_EQ(copied[0].index, opt(0));
  EXPECT_EQ(copied[0].guest_offset, opt(0));
  EXPECT_EQ(copied[0].cluster, opt(d.cluster));
  EXPECT_EQ(c.res.stats.leaks, 1u);
  EXPECT_EQ(c.res.stats.copied_mismatches, 1u);
  expect_qemu_counts_agree(d.path, c);
}

TEST(RefcountLeak, DataClusterWhoseL2EntryWasZeroedIsALeakOnly) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::orphan_data_cluster(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kLeak, 1);
  EXPECT_EQ(c.problem_codes(), Codes{"refcount-leak"}) << c.describe();
  const auto leak = c.with_code("refcount-leak");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].cluster, opt(d.cluster));
  EXPECT_EQ(leak[0].file_offset, opt(l.refcount_entry(d.cluster)));
  EXPECT_EQ(leak[0].index, opt(d.cluster)) << "entry index inside refcount block 0";
  expect_qemu_counts_agree(d.path, c);
}

TEST(RefcountLeak, RefcountRaisedOnAFreedClusterInsideTheFileIsALeak) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::free_cluster_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kLeak, 1);
  EXPECT_EQ(c.problem_codes(), Codes{"refcount-leak"}) << c.describe();
  const auto leak = c.with_code("refcount-leak");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].cluster, opt(d.cluster));
  EXPECT_EQ(leak[0].file_offset, opt(d.at));
  expect_qemu_counts_agree(d.path, c);
}

TEST(RefcountLeak, RefcountPastTheEndOfTheFileIsALeakThatQemuDoesNotSee) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::refcount_past_eof(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kLeak, 1);
  EXPECT_EQ(c.problem_codes(), Codes{"refcount-past-eof"}) << c.describe();
  const auto f = c.with_code("refcount-past-eof");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].category, Category::kLeak);
  // One finding per refcount, with the exact bytes, so that each can be fixed: the 16-bit
  // entry of that cluster in block 0, proposed to be 0 (the cluster does not exist).
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].width, 2u);
  EXPECT_EQ(f[0].index, opt(d.cluster));
  EXPECT_EQ(f[0].cluster, opt(d.cluster));
  EXPECT_EQ(f[0].current, opt(1));
  EXPECT_EQ(f[0].proposed, opt(0));
  EXPECT_EQ(f[0].risk, Risk::kSafe);
  EXPECT_EQ(f[0].table_offset, opt(l.refblock(0)));
  EXPECT_EQ(c.res.stats.leaks, 1u);

  // qemu-img compares refcounts only up to the end of the file: it calls this image clean.
  // Everything else it reports must still be ours.
  const QemuCheck q = qemu_check(d.path);
  ASSERT_TRUE(q.ran) << q.err;
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.leaks, 0u);
  EXPECT_EQ(q.corruptions, 0u);
  EXPECT_EQ(corruption_count(c.res), 0u);
  EXPECT_EQ(c.res.stats.image_end_offset, q.image_end_offset);
}

TEST(Copied, ClearedOnAnL2EntryWithRefcountOneIsCopiedL2) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::clear_copied_l2(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCopied, 2);
  EXPECT_EQ(c.problem_codes(), Codes{"copied-l2"}) << c.describe();
  const auto f = c.with_code("copied-l2");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].category, Category::kCopied);
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].index, opt(0));
  EXPECT_EQ(f[0].guest_offset, opt(0));
  EXPECT_EQ(f[0].cluster, opt(d.cluster));
  EXPECT_EQ(c.res.stats.leaks, 0u);
  expect_qemu_counts_agree(d.path, c);
}

TEST(Copied, ClearedOnAnL1EntryWithRefcountOneIsCopiedL1) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::clear_copied_l1(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCopied, 2);
  EXPECT_EQ(c.problem_codes(), Codes{"copied-l1"}) << c.describe();
  const auto f = c.with_code("copied-l1");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].index, opt(0));
  EXPECT_EQ(f[0].cluster, opt(d.cluster)) << "the L2 table's cluster";
  expect_qemu_counts_agree(d.path, c);
}

TEST(RefcountError, CrossLinkedClusterIsARefcountErrorNamingBothReferrers) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::cross_link(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const uint64_t orphan = l.cluster_of(d.before[1] & kOffsetMask);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kRefcountError, 4);
  EXPECT_EQ(c.problem_codes(), (Codes{"cluster-shared", "refcount-error", "refcount-leak"})) << c.describe();
  const auto err = c.with_code("refcount-error");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0].cluster, opt(d.cluster));
  EXPECT_EQ(err[0].file_offset, opt(l.refcount_entry(d.cluster)));
  const auto leak = c.with_code("refcount-leak");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].cluster, opt(orphan)) << "entry 1's old cluster lost its only reference";
  const auto shared = c.with_code("cluster-shared");
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].category, Category::kRefcount);
  EXPECT_EQ(shared[0].cluster, opt(d.cluster));
  EXPECT_EQ(shared[0].file_offset, opt(d.cluster * damage::kCluster));
  const std::string table = fmt::format("L2 table 0x{:x}", l.l2());
  for (const char* who : {" entry 0 ", " entry 1 "})
    EXPECT_NE(shared[0].message.find(table + who), std::string::npos)
        << "referrer '" << table << who << "' not named in: " << shared[0].message;
  EXPECT_EQ(c.res.stats.errors, 1u);
  expect_qemu_counts_agree(d.path, c);
}

TEST(RefcountError, ZeroRefcountForAReferencedClusterIsRefcountZero) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::zero_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kRefcountError, 4);
  // COPIED set on a cluster whose refcount is 0 is a COPIED mismatch too (qemu-img says so).
  EXPECT_EQ(c.problem_codes(), (Codes{"copied-l2", "refcount-zero"})) << c.describe();
  const auto f = c.with_code("refcount-zero");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].category, Category::kRefcount);
  EXPECT_EQ(f[0].cluster, opt(d.cluster));
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(c.res.stats.rebuild, 1u) << "a refcount of 0 needs a rebuild, not an increment";
  const auto copied = c.with_code("copied-l2");
  ASSERT_EQ(copied.size(), 1u);
  EXPECT_EQ(copied[0].file_offset, opt(l.l2_entry(0)));
  expect_qemu_counts_agree(d.path, c);
}

TEST(RefcountError, ZeroedRefcountTableEntryIsARefcountTableMiss) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::reftable_miss(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kRefcountError, 4);
  const auto f = c.with_code("refcount-table-miss");
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kRefcount);
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].index, opt(0));
  EXPECT_EQ(f[0].cluster, opt(0)) << "the first referenced cluster without a refcount: the header";
  // Every referenced cluster now has refcount 0, so every COPIED flag is wrong as well; no
  // other kind of finding may appear.
  for (const std::string& code : c.problem_codes())
    EXPECT_TRUE(code == "refcount-table-miss" || code == "copied-l1" || code == "copied-l2") << code;
  EXPECT_EQ(c.res.stats.leaks, 0u);
  EXPECT_EQ(c.res.stats.errors, c.res.stats.rebuild);
  expect_qemu_counts_agree(d.path, c);
}

// Refcount table entries: the finding points at the entry, the bad block offset is never
// read as a refcount block, and the image is corrupt (a rebuild is needed). Every cluster in
// the block's range then lacks a refcount, as for a zeroed entry.
void expect_reftable_finding(const damage::Damaged& d, const char* code) {
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  const auto f = c.with_code(code);
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kCorrupt);
  EXPECT_EQ(f[0].file_offset, opt(d.at));
  EXPECT_EQ(f[0].index, opt(0));
  // Without a usable block every referenced cluster of its range lacks a refcount.
  EXPECT_TRUE(c.has("refcount-table-miss")) << c.describe();
  for (const std::string& other : c.problem_codes())
    EXPECT_TRUE(other == code || other == "refcount-table-miss" || other == "copied-l1" ||
                other == "copied-l2")
        << "unexpected " << other << ": " << c.describe();
}

// qemu-img 7.2 reports the reserved bits once and still reads refcounts through the masked
// offset (so it sees one corruption and the block itself as leaked); we do not trust a block
// whose pointer is damaged. The counts differ by design; the finding is what matters.
TEST(RefTable, EntryWithReservedBitsIsReftableReservedBits) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  expect_reftable_finding(damage::reftable_reserved_bits(dir), "reftable-reserved-bits");
}

// qemu-img cannot read refcounts through an unaligned block at all ("Can't get refcount",
// one check error per cluster, exit 1): nothing to compare.
TEST(RefTable, UnalignedEntryIsReftableUnaligned) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  expect_reftable_finding(damage::reftable_unaligned(dir), "reftable-unaligned");
}

// Past the end of the file qemu-img, like us, sees refcount 0 for every cluster of the range.
TEST(RefTable, EntryPastTheEndOfTheFileIsReftablePastEof) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::reftable_past_eof(dir);
  expect_reftable_finding(d, "reftable-past-eof");
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  expect_qemu_counts_agree(d.path, c);
}

TEST(Overlap, DataEntryPointingAtTheActiveL1IsAnOverlap) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::data_over_l1(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  // The L1 cluster has two referrers and refcount 1; the old data cluster has none.
  EXPECT_EQ(c.problem_codes(), (Codes{"overlap", "refcount-error", "refcount-leak"})) << c.describe();
  const auto f = c.with_code("overlap");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].category, Category::kCorrupt);
  EXPECT_EQ(f[0].cluster, opt(d.cluster));
  EXPECT_EQ(f[0].file_offset, opt(l.l1()));
  EXPECT_NE(f[0].message.find(fmt::format("L2 table 0x{:x} entry 0 ", l.l2())), std::string::npos)
      << f[0].message;
  expect_qemu_counts_agree(d.path, c);
}

TEST(Overlap, DataEntryPointingAtARefcountBlockIsAnOverlap) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::data_over_refblock(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  EXPECT_EQ(c.problem_codes(), (Codes{"overlap", "refcount-error", "refcount-leak"})) << c.describe();
  const auto f = c.with_code("overlap");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].cluster, opt(d.cluster));
  EXPECT_NE(f[0].message.find("refcount table entry 0"), std::string::npos) << f[0].message;

  // qemu-img counts this twice: once as "refcount block 0 refcount=2" in its refcount block
  // pass and once as the cluster's refcount error. We count the refcount error once (the
  // overlap finding is the structural side of the same fault). Leaks must agree.
  const QemuCheck q = qemu_check(d.path);
  ASSERT_TRUE(q.ran) << q.err;
  EXPECT_EQ(q.leaks, c.res.stats.leaks) << q.err;
  EXPECT_EQ(q.corruptions, corruption_count(c.res) + 1) << q.err << "\nwe said: " << c.describe();
}

}  // namespace
}  // namespace qcow2::test
