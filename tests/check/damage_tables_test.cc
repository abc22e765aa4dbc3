// Damaged L1 and L2 entries, interpolation of garbled L2 runs, compressed clusters and
// extended L2 bitmaps. A bad pointer must be reported where it is stored and never followed.
#include <gtest/gtest.h>

#include "tests/check/damage_recipes.h"

namespace qcow2::test {
namespace {

using Codes = std::vector<std::string>;

// Exactly one finding with `code`, at entry `index` stored at `at`, mapping `guest`.
void expect_entry_finding(const Checked& c, const std::string& code, uint64_t at, uint64_t index,
                          uint64_t guest) {
  const auto f = c.with_code(code);
  ASSERT_EQ(f.size(), 1u) << c.describe();
  EXPECT_EQ(f[0].category, Category::kCorrupt);
  EXPECT_EQ(f[0].file_offset, opt(at));
  EXPECT_EQ(f[0].index, opt(index));
  EXPECT_EQ(f[0].guest_offset, opt(guest));
}

TEST(L1Entry, UnalignedPointerIsReportedAndNeverFollowed) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l1_unaligned(dir);
  ASSERT_FALSE(d.path.empty());
  const uint64_t bogus = d.before[1];
  const uint64_t target = d.before[2];
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l1-unaligned", d.at, 0, 0);
  // The L2 table and both data clusters lost their only reference: three leaks, nothing else.
  // Had the checker read the bytes at the bogus offset as an L2 table it would have counted
  // four references to `target` and reported a refcount error (which qemu-img does).
  EXPECT_EQ(c.problem_codes(), (Codes{"l1-unaligned", "refcount-leak", "refcount-leak", "refcount-leak"}))
      << c.describe();
  EXPECT_EQ(c.res.stats.l2.used, 0u) << "no L2 table may have been scanned";
  EXPECT_EQ(c.res.stats.errors, 0u);
  const std::string bogus_table = fmt::format("L2 table 0x{:x}", bogus);
  for (const Finding& f : c.res.findings) {
    EXPECT_NE(f.table, bogus_table) << "a finding refers to the bogus table: " << c.describe();
    if (f.file_offset) {
      EXPECT_FALSE(*f.file_offset >= bogus && *f.file_offset < bogus + damage::kCluster)
          << "a finding points inside the bogus table: " << c.describe();
    }
    if (f.cluster && *f.cluster == target) {
      EXPECT_EQ(f.code, "refcount-leak") << c.describe();
    }
  }
  // qemu-img follows the unaligned pointer and checks guest data as L2 entries, so its counts
  // are not comparable here.
}

TEST(L1Entry, PointerPastTheEndOfTheFileIsL1PastEof) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l1_past_eof(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l1-past-eof", d.at, 0, 0);
  EXPECT_EQ(c.problem_codes(), (Codes{"l1-past-eof", "refcount-leak", "refcount-leak", "refcount-leak"}))
      << c.describe();
  EXPECT_EQ(c.res.stats.l1.invalid, 1u);
  expect_qemu_counts_agree(d.path, c);
}

TEST(L1Entry, ReservedBitsAreL1ReservedBitsAndTheTableIsStillChecked) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l1_reserved_bits(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l1-reserved-bits", d.at, 0, 0);
  // The offset bits are intact, so the L2 table is still walked: no leaks.
  EXPECT_EQ(c.problem_codes(), Codes{"l1-reserved-bits"}) << c.describe();
  EXPECT_EQ(c.res.stats.l2.used, 2u);
  expect_qemu_counts_agree(d.path, c);
}

TEST(L2Entry, ReservedBitsAreL2ReservedBits) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l2_reserved_bits(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l2-reserved-bits", d.at, 0, 0);
  EXPECT_EQ(c.problem_codes(), Codes{"l2-reserved-bits"}) << c.describe();
  expect_qemu_counts_agree(d.path, c);
}

TEST(L2Entry, UnalignedDataOffsetIsL2Unaligned) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l2_unaligned(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l2-unaligned", d.at, 1, damage::kCluster);
  // The entry's old cluster is no longer referenced. qemu-img instead counts the two clusters
  // the unaligned range straddles as referenced, so its counts differ by design.
  EXPECT_EQ(c.problem_codes(), (Codes{"l2-unaligned", "refcount-leak"})) << c.describe();
  const auto leak = c.with_code("refcount-leak");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].cluster, opt(d.cluster));
  // Entry 2 is unallocated: there is no sequential run to interpolate from, but the cluster the
  // offset points into is leaked and nothing else references it: the entry is restored from it.
  const Finding f = c.with_code("l2-unaligned")[0];
  ASSERT_TRUE(f.proposed.has_value()) << c.describe();
  EXPECT_EQ(*f.proposed, d.before[0]);
  EXPECT_EQ(f.risk, Risk::kRisky);
  EXPECT_FALSE(leak[0].proposed.has_value()) << "the inferred home of lost data is never proposed to be freed";
}

TEST(L2Entry, DataOffsetPastTheEndOfTheFileIsL2PastEof) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::l2_past_eof(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l2-past-eof", d.at, 1, damage::kCluster);
  EXPECT_EQ(c.problem_codes(), (Codes{"l2-past-eof", "refcount-leak"})) << c.describe();
  EXPECT_EQ(c.res.stats.l2.invalid, 1u);
  expect_qemu_counts_agree(d.path, c);
}

TEST(Interpolation, GarbledEntriesInASequentialRunGetTheirOriginalValuesSuggested) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::garbled_run(dir);
  ASSERT_FALSE(d.path.empty());
  const Layout l(d.path);
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  const auto f = c.with_code("l2-unaligned");
  ASSERT_EQ(f.size(), 3u) << c.describe();
  const uint64_t l2 = l.l2();
  for (uint64_t i = 3; i <= 5; ++i) {
    const Finding& x = f[i - 3];
    EXPECT_EQ(x.file_offset, opt(l2 + 8 * i));
    EXPECT_EQ(x.index, opt(i));
    EXPECT_EQ(x.guest_offset, opt(i * damage::kCluster));
    ASSERT_TRUE(x.proposed.has_value()) << "entry " << i << ": " << x.fix;
    EXPECT_EQ(*x.proposed, d.before[i])
        << fmt::format("entry {}: proposed 0x{:016x}, was 0x{:016x}", i, *x.proposed, d.before[i]);
    EXPECT_EQ(x.risk, Risk::kRisky);
    EXPECT_NE(x.fix.find(fmt::format("0x{:016x}", d.before[i])), std::string::npos) << x.fix;
  }
  // The three clusters the garbage replaced have lost their references; they are the inferred
  // homes of the lost data, so none of them is proposed to be freed.
  EXPECT_EQ(c.problem_codes(), (Codes{"l2-unaligned", "l2-unaligned", "l2-unaligned", "refcount-leak",
                                      "refcount-leak", "refcount-leak"}))
      << c.describe();
  for (const Finding& leak : c.with_code("refcount-leak")) {
    EXPECT_FALSE(leak.proposed.has_value()) << leak.message;
    EXPECT_TRUE(leak.resolved_by.has_value()) << leak.message;
  }
}

// Compressed clusters, for both compression types.
void expect_compressed_past_eof(bool zstd) {
  TempDir dir;
  const damage::Damaged d = zstd ? damage::zstd_past_eof(dir) : damage::zlib_past_eof(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l2-compressed-past-eof", d.at, 0, 0);
  // The host cluster that held the stream is no longer referenced.
  EXPECT_EQ(c.problem_codes(), (Codes{"l2-compressed-past-eof", "refcount-leak"})) << c.describe();
  expect_qemu_counts_agree(d.path, c);
}

void expect_compressed_bad_stream(bool zstd) {
  TempDir dir;
  const damage::Damaged d = zstd ? damage::zstd_bad_stream(dir) : damage::zlib_bad_stream(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  expect_entry_finding(c, "l2-compressed-bad-stream", d.at, 0, 0);
  EXPECT_EQ(c.problem_codes(), Codes{"l2-compressed-bad-stream"}) << c.describe();
  // qemu-img never decompresses: to it the image is clean (the guest read fails later).
  const QemuCheck q = qemu_check(d.path);
  ASSERT_TRUE(q.ran) << q.err;
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.corruptions, 0u);
  EXPECT_EQ(q.leaks, 0u);
  EXPECT_EQ(c.res.stats.leaks, 0u);

  // Without verification the same image is clean to us too.
  CheckOptions opts;
  opts.verify_compressed = false;
  const Checked quick = check_file(d.path, opts);
  ASSERT_TRUE(quick.ok);
  QCOW2_EXPECT_STATUS(quick, ImageStatus::kGood, 0);
}

TEST(Compressed, ZlibDescriptorPastTheEndOfTheFileIsCompressedPastEof) {
  QCOW2_SKIP_WITHOUT_QEMU();
  expect_compressed_past_eof(false);
}

TEST(Compressed, ZstdDescriptorPastTheEndOfTheFileIsCompressedPastEof) {
  QCOW2_SKIP_WITHOUT_QEMU();
  expect_compressed_past_eof(true);
}

TEST(Compressed, ZlibGarbageStreamIsCompressedBadStream) {
  QCOW2_SKIP_WITHOUT_QEMU();
  expect_compressed_bad_stream(false);
}

TEST(Compressed, ZstdGarbageStreamIsCompressedBadStream) {
  QCOW2_SKIP_WITHOUT_QEMU();
  expect_compressed_bad_stream(true);
}

TEST(ExtendedL2, SubclusterBothAllocatedAndZeroIsReported) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::subcluster_alloc_and_zero(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked c = check_file(d.path);
  ASSERT_TRUE(c.ok);

  QCOW2_EXPECT_STATUS(c, ImageStatus::kCorrupt, 6);
  // The bytes concerned are the bitmap word (bytes 8..15 of the entry), its zero bit 32.
  expect_entry_finding(c, "l2-subcluster-alloc-and-zero", d.at + 8, 0, 0);
  const Finding f = c.with_code("l2-subcluster-alloc-and-zero")[0];
  EXPECT_EQ(f.mask, 1ULL << 32);
  EXPECT_EQ(f.width, 8u);
  ASSERT_TRUE(f.proposed.has_value());
  EXPECT_EQ(*f.proposed, *f.current & ~(1ULL << 32)) << "the data is kept: the zero bit goes";
  EXPECT_EQ(c.problem_codes(), Codes{"l2-subcluster-alloc-and-zero"}) << c.describe();
  EXPECT_NE(c.with_code("l2-subcluster-alloc-and-zero")[0].message.find("0x00000001"), std::string::npos)
      << "the message names the subclusters";
  expect_qemu_counts_agree(d.path, c);
}

}  // namespace
}  // namespace qcow2::test
