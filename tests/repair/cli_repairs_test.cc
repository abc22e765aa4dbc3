// Each repair through qcow2-dump's options, on real images with known guest data: the result
// checks clean for us and for qemu-img, the guest reads what was written before the damage, a
// second plan is empty, and the undo journal puts the damaged bytes back exactly.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "engine/format/header.h"
#include "tests/check/damage_recipes.h"
#include "tests/repair/repair_helpers.h"

namespace qcow2::test {
namespace {

using damage::kCluster;

// Runs the repair; expects it to apply, leave an image of status `want` (good unless told)
// with one journal more, and returns that journal.
std::string repair_ok(const TempDir& dir, const std::vector<std::string>& args, const std::string& image,
                      int want = 0) {
  const size_t journals = journals_of(image).size();
  std::vector<std::string> argv = args;
  argv.push_back(image);
  const CommandResult r = run_dump(argv, dir.path());
  EXPECT_EQ(r.exit_code, want) << r.describe() << "\n" << r.out;
  EXPECT_NE(r.out.find("applied; undo journal: "), std::string::npos) << r.out;
  const std::vector<std::string> j = journals_of(image);
  EXPECT_EQ(j.size(), journals + 1) << r.out;
  return j.empty() ? "" : j.back();
}

void expect_second_plan_empty(const TempDir& dir, const std::string& repair, const std::string& image) {
  const CommandResult again = run_dump({"-R", repair, "--dry-run", image}, dir.path());
  EXPECT_TRUE(plan_is_empty(again)) << "a second plan must be empty:\n" << again.out;
}

// The journal a run says it wrote ("applied; undo journal: PATH").
std::string journal_written(const CommandResult& r) {
  const std::string tag = "applied; undo journal: ";
  const size_t at = r.out.find(tag);
  if (at == std::string::npos) return "";
  const size_t end = r.out.find('\n', at);
  return r.out.substr(at + tag.size(), end - at - tag.size());
}

// Undoes; returns the undo's own journal.
std::string expect_undo_restores(const TempDir& dir, const std::string& journal, const std::string& image,
                                 const std::string& damaged_sha) {
  const CommandResult u = run_dump({"--undo", journal, image}, dir.path());
  EXPECT_LT(u.exit_code, 64) << u.describe();
  EXPECT_EQ(sha256_file(image), damaged_sha) << "undo puts the damaged bytes back";
  return journal_written(u);
}

// Guest clusters 0..7 written with patterns 0x30..0x37, one cluster each, so QEMU lays them
// out one after the other.
std::string eight_clusters(const TempDir& dir, const std::vector<std::string>& options = {}) {
  std::vector<std::string> io;
  for (int i = 0; i < 8; ++i) io.push_back(fmt::format("write -P 0x{:x} {}k 64k", 0x30 + i, 64 * i));
  return damage::small_image(dir, options, io);
}

TEST(CliRepair, GarbledRunOfL2EntriesIsRelinkedWithNoDataLost) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = eight_clusters(dir);
  ASSERT_FALSE(p.empty());
  const std::string want = guest_hash(dir, p);
  Layout l(p);
  const uint64_t e2 = peek(p, l.l2_entry(2), 8), e6 = peek(p, l.l2_entry(6), 8);
  ASSERT_EQ((e6 & kOffsetMask) - (e2 & kOffsetMask), 4 * kCluster) << "QEMU laid the clusters out in order";
  for (uint64_t i = 3; i <= 5; ++i) ASSERT_TRUE(poke(p, l.l2_entry(i), 8, 0x5a5a5a5a5a5a5a5aULL + i));
  const std::string damaged = sha256_file(p);
  const std::string journal = repair_ok(dir, {"-R", "all"}, p);
  EXPECT_EQ(guest_hash(dir, p), want) << "every guest cluster reads what was written";
  for (uint64_t i = 3; i <= 5; ++i)
    EXPECT_EQ(peek(p, l.l2_entry(i), 8), kEntryCopied | ((e2 & kOffsetMask) + (i - 2) * kCluster)) << i;
  expect_qemu_clean(p);
  expect_second_plan_empty(dir, "all", p);
  expect_undo_restores(dir, journal, p, damaged);
}

TEST(CliRepair, ZeroedRunOfL2EntriesIsRelinkedInsteadOfFreed) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = eight_clusters(dir);
  ASSERT_FALSE(p.empty());
  const std::string want = guest_hash(dir, p);
  Layout l(p);
  for (uint64_t i = 3; i <= 5; ++i) ASSERT_TRUE(poke(p, l.l2_entry(i), 8, 0));
  // What qemu-img check -r all does here: frees the three clusters as leaks (the data is lost
  // to the guest). Ours puts the entries back.
  const std::string journal = repair_ok(dir, {"-R", "all"}, p);
  EXPECT_EQ(guest_hash(dir, p), want);
  expect_qemu_clean(p);
  expect_second_plan_empty(dir, "all", p);
}

TEST(CliRepair, LeakRepairLowersTheRefcountAndFollowsWithCopied) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::raise_data_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const std::string want = guest_hash(dir, d.path);
  const std::string damaged = sha256_file(d.path);
  const std::string journal = repair_ok(dir, {"-R", "leak"}, d.path);
  EXPECT_EQ(guest_hash(dir, d.path), want);
  expect_qemu_clean(d.path);
  expect_second_plan_empty(dir, "leak", d.path);
  expect_second_plan_empty(dir, "all", d.path);
  expect_undo_restores(dir, journal, d.path, damaged);
}

TEST(CliRepair, ErrorRepairRaisesAZeroRefcount) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::zero_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const std::string want = guest_hash(dir, d.path);
  repair_ok(dir, {"-R", "error"}, d.path);
  EXPECT_EQ(guest_hash(dir, d.path), want);
  expect_qemu_clean(d.path);
  expect_second_plan_empty(dir, "error", d.path);
}

// The well-known tool byte-swaps the entries it skips while it fixes COPIED flags: a zero
// entry (0x1) comes back as 0x0100000000000000. Ours changes bit 63 of the one entry.
TEST(CliRepair, CopiedFixChangesThatOneBitAndLeavesZeroEntriesAlone) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p =
      damage::small_image(dir, {}, {"write -P 0x11 0 64k", "write -z 64k 64k", "write -P 0x13 128k 64k"});
  ASSERT_FALSE(p.empty());
  Layout l(p);
  ASSERT_EQ(peek(p, l.l2_entry(1), 8), kL2ZeroFlag) << "qemu-io wrote a zero entry";
  std::vector<uint8_t> table_before(kCluster);
  const std::vector<uint8_t> file = read_file_bytes(p);
  std::copy(file.begin() + l.l2(), file.begin() + l.l2() + kCluster, table_before.begin());
  const uint64_t e0 = peek(p, l.l2_entry(0), 8);
  ASSERT_TRUE(poke(p, l.l2_entry(0), 8, e0 & ~kEntryCopied));
  const std::string want = guest_hash(dir, p);
  repair_ok(dir, {"-R", "all"}, p);
  const std::vector<uint8_t> after = read_file_bytes(p);
  EXPECT_TRUE(std::equal(table_before.begin(), table_before.end(), after.begin() + l.l2()))
      << "the L2 table is exactly as QEMU wrote it";
  EXPECT_EQ(peek(p, l.l2_entry(1), 8), kL2ZeroFlag);
  EXPECT_EQ(guest_hash(dir, p), want);
  expect_qemu_clean(p);
}

TEST(CliRepair, RebuildMakesANewRefcountStructurePastTheEndAndFreesTheOld) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::two_snapshots(dir, true);
  ASSERT_FALSE(p.empty());
  const std::string active = guest_hash(dir, p), s1 = guest_hash(dir, p, "s1"), s2 = guest_hash(dir, p, "s2");
  const uint64_t size = damage::file_size(p);
  const uint64_t old_table = peek(p, 48, 8);
  const std::string before = sha256_file(p);
  const std::string journal = repair_ok(dir, {"-R", "rebuild"}, p);
  EXPECT_GE(peek(p, 48, 8), size) << "the new refcount table lies past the old end of the file";
  EXPECT_NE(peek(p, 48, 8), old_table);
  EXPECT_EQ(guest_hash(dir, p), active);
  EXPECT_EQ(guest_hash(dir, p, "s1"), s1);
  EXPECT_EQ(guest_hash(dir, p, "s2"), s2);
  expect_qemu_clean(p);
  expect_second_plan_empty(dir, "all", p);
  expect_undo_restores(dir, journal, p, before);
  EXPECT_EQ(damage::file_size(p), size) << "undo cuts the file back";
}

TEST(CliRepair, RefcountTableEntryLostIsRebuiltForEveryRefcountWidth) {
  QCOW2_SKIP_WITHOUT_QEMU();
  for (const char* bits : {"1", "4", "16", "64"}) {
    SCOPED_TRACE(std::string("refcount_bits=") + bits);
    TempDir dir;
    const std::string p = damage::small_image(dir, {std::string("refcount_bits=") + bits},
                                              {"write -P 0x11 0 256k", "write -P 0x12 1M 64k"});
    ASSERT_FALSE(p.empty());
    const std::string want = guest_hash(dir, p);
    ASSERT_TRUE(poke(p, peek(p, 48, 8), 8, 0));
    repair_ok(dir, {"-R", "all"}, p);
    EXPECT_EQ(guest_hash(dir, p), want);
    expect_qemu_clean(p);
    expect_second_plan_empty(dir, "all", p);
  }
}

TEST(CliRepair, ReuseGivesTheExtraReferrerItsOwnCopy) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::cross_link(dir);  // L2 entry 1 made a copy of entry 0
  ASSERT_FALSE(d.path.empty());
  const std::string reads = guest_hash(dir, d.path);  // what the guest reads now: 0x11 twice
  // Entry 1's own cluster (0x12) is left leaked: nothing proves it is entry 1's lost data, and it
  // may be, so its refcount is kept (status leaks) until the user decides.
  const std::string journal = repair_ok(dir, {"-R", "reuse"}, d.path, 1);
  Layout l(d.path);
  const uint64_t e0 = peek(d.path, l.l2_entry(0), 8), e1 = peek(d.path, l.l2_entry(1), 8);
  EXPECT_EQ(e0, d.before[0]) << "the first referrer keeps the cluster";
  EXPECT_NE(e1 & kOffsetMask, e0 & kOffsetMask) << "the second has its own";
  EXPECT_NE(e1 & kEntryCopied, 0u);
  EXPECT_EQ(guest_hash(dir, d.path), reads) << "the guest reads what it read before the repair";
  const QemuCheck q = qemu_check(d.path);
  EXPECT_EQ(q.corruptions, 0u) << q.err;
  EXPECT_EQ(q.leaks, 1u) << q.err;
  expect_second_plan_empty(dir, "all", d.path);
  const CommandResult freed = run_dump({"-R", "leak", "--destructive", d.path});
  EXPECT_EQ(freed.exit_code, 0) << "asked to, it frees the leaked cluster: " << freed.out;
  expect_qemu_clean(d.path);
}

TEST(CliRepair, DiscardPunchesOnlyWhatNothingReferencesAndOnlyWhenAsked) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = eight_clusters(dir);
  ASSERT_FALSE(p.empty());
  Layout l(p);
  // Guest cluster 7 dropped and its refcount set to 0: a free cluster that holds data.
  const uint64_t host = peek(p, l.l2_entry(7), 8) & kOffsetMask;
  ASSERT_TRUE(poke(p, l.l2_entry(7), 8, 0));
  ASSERT_TRUE(poke(p, l.refcount_entry(l.cluster_of(host)), 2, 0));
  const std::string want = guest_hash(dir, p);
  const CommandResult all = run_dump({"-R", "all", p}, dir.path());
  EXPECT_EQ(peek(p, host, 8), 0x3737373737373737ULL) << "-R all never discards: " << all.out;
  struct stat before {};
  ASSERT_EQ(::stat(p.c_str(), &before), 0);
  const std::string damaged = sha256_file(p);
  const std::string journal = repair_ok(dir, {"-R", "discard"}, p);
  struct stat after {};
  ASSERT_EQ(::stat(p.c_str(), &after), 0);
  EXPECT_EQ(peek(p, host, 8), 0u) << "the free cluster reads as zeros";
  EXPECT_LT(after.st_blocks, before.st_blocks) << "its space went back to the file system";
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(guest_hash(dir, p), want);
  expect_qemu_clean(p);
  expect_undo_restores(dir, journal, p, damaged);
}

TEST(CliRepair, FeatureBitsAreSetAndClearedAndVersion2IsLeftAlone) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::small_image(dir);
  ASSERT_FALSE(p.empty());
  const std::string clean = sha256_file(p);
  EXPECT_EQ(run_dump({"-M", "dirty", p}).exit_code, 0);  // dirty with right refcounts: good
  EXPECT_EQ(peek(p, 72, 8), kIncompatDirty);
  EXPECT_EQ(run_dump({"-M", "corrupt", p}).exit_code, 3) << "corrupt bit only";
  EXPECT_EQ(peek(p, 72, 8), kIncompatDirty | kIncompatCorrupt);
  EXPECT_EQ(run_dump({"-C", "corrupt", p}).exit_code, 0);
  EXPECT_EQ(run_dump({"-C", "dirty", p}).exit_code, 0);
  EXPECT_EQ(sha256_file(p), clean);
  expect_qemu_clean(p);

  const std::string v2 = damage::small_image(dir, {"compat=0.10"}, {"write -P 0x11 0 64k"}, "v2.qcow2");
  ASSERT_FALSE(v2.empty());
  const std::string v2_sha = sha256_file(v2);
  const CommandResult set = run_dump({"-M", "dirty", v2});
  EXPECT_EQ(set.exit_code, 64) << set.describe();
  EXPECT_NE(set.err.find("version 2"), std::string::npos) << set.err;
  const CommandResult clear = run_dump({"-C", "corrupt", v2});
  EXPECT_EQ(clear.exit_code, 0) << clear.describe();
  EXPECT_EQ(sha256_file(v2), v2_sha) << "byte 72 of a version 2 header begins its extensions: untouched";
  EXPECT_TRUE(journals_of(v2).empty());
}

TEST(CliRepair, PatchWritesByOffsetAndByFieldName) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = eight_clusters(dir);
  ASSERT_FALSE(p.empty());
  Layout l(p);
  const std::string clean = sha256_file(p);
  const uint64_t e3 = peek(p, l.l2_entry(3), 8);

  // By name: active L2 table of L1 entry 0, entry 3, dropped (the cluster then leaks).
  const CommandResult drop = run_dump({"-m", "edit", "--field", "l2 0 3", "-V", "0", p});
  EXPECT_EQ(drop.exit_code, 1) << "a leak is left: " << drop.describe();
  EXPECT_EQ(peek(p, l.l2_entry(3), 8), 0u);
  // By offset, 8 bytes (the default width): put it back.
  EXPECT_EQ(run_dump({"-m", "edit", "-O", fmt::format("0x{:x}", l.l2_entry(3)), "-V", fmt::format("0x{:x}", e3), p})
                .exit_code,
            0);
  EXPECT_EQ(sha256_file(p), clean);
  // A 2-byte refcount by name, and by offset with -L 2.
  const uint64_t c = l.cluster_of(e3 & kOffsetMask);
  EXPECT_EQ(run_dump({"-m", "edit", "--field", fmt::format("refcount {}", c), "-V", "2", p}).exit_code, 2)
      << "COPIED now disagrees with the refcount (and it leaks)";
  EXPECT_EQ(peek(p, l.refcount_entry(c), 2), 2u);
  EXPECT_EQ(run_dump({"-m", "edit", "-O", std::to_string(l.refcount_entry(c)), "-V", "1", "-L", "2", p}).exit_code, 0);
  // A header field by name.
  const uint64_t l1_size = peek(p, 36, 4);
  EXPECT_EQ(run_dump({"-m", "edit", "--field", "header.l1_size", "-V", std::to_string(l1_size + 1), p}).exit_code, 0);
  EXPECT_EQ(peek(p, 36, 4), l1_size + 1);
  EXPECT_EQ(run_dump({"-m", "edit", "--field", "header.l1_size", "-V", std::to_string(l1_size), p}).exit_code, 0);
  EXPECT_EQ(sha256_file(p), clean);
  expect_qemu_clean(p);

  // What does not exist is refused, and nothing is written.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"-m", "edit", "--field", "l2 9999 0", "-V", "0", p},
        {"-m", "edit", "--field", "header.nonsense", "-V", "0", p},
        {"-m", "edit", "--field", "header.l1_size", "-V", "0x100000000", p},
        {"-m", "edit", "-O", "0x7fffffffffff", "-V", "0", p},
        {"-m", "edit", "-O", "0", "-V", "0", "-L", "3", p}}) {
    const CommandResult r = run_dump(bad);
    EXPECT_EQ(r.exit_code, 64) << r.describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  EXPECT_EQ(sha256_file(p), clean);
}

TEST(CliRepair, CopyTakesBytesFromTheImageOrAnotherFile) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = eight_clusters(dir);
  ASSERT_FALSE(p.empty());
  Layout l(p);
  const std::string clean = sha256_file(p);
  const std::string backup = dir.file("backup.qcow2");
  std::filesystem::copy_file(p, backup);
  // An L2 table zeroed, then copied back from the backup.
  ASSERT_TRUE(fill(p, l.l2(), kCluster, 0));
  EXPECT_NE(run_dump({p}).exit_code, 0);
  const CommandResult r = run_dump({"-m", "copy", "-O", std::to_string(l.l2()), "-S", std::to_string(l.l2()), "-L",
                                    std::to_string(kCluster), "-F", backup, p});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(sha256_file(p), clean);
  // Within the image: 8 bytes of entry 1 over entry 0 (a cross-link), then back from the backup.
  EXPECT_NE(run_dump({"-m", "copy", "-O", std::to_string(l.l2_entry(0)), "-S", std::to_string(l.l2_entry(1)), "-L",
                      "8", p})
                .exit_code,
            0);
  EXPECT_EQ(peek(p, l.l2_entry(0), 8), peek(p, l.l2_entry(1), 8));
  EXPECT_EQ(run_dump({"-m", "copy", "-O", std::to_string(l.l2_entry(0)), "-S", std::to_string(l.l2_entry(0)), "-L",
                      "8", "-F", backup, p})
                .exit_code,
            0);
  EXPECT_EQ(sha256_file(p), clean);
  EXPECT_EQ(run_dump({"-m", "copy", "-O", "0", "-S", "0", "-L", std::to_string(2 * kCluster), p}).exit_code, 64)
      << "at most one cluster";
}

TEST(CliRepair, DryRunWritesNothingAndSaysWhatItWouldDo) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::reftable_miss(dir);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  const CommandResult r = run_dump({"-R", "all", "--dry-run", d.path});
  EXPECT_EQ(r.exit_code, 0) << "the image the plan leaves is good: " << r.describe();
  EXPECT_NE(r.out.find("dry run: nothing was written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refcount-rebuild"), std::string::npos) << r.out;
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_TRUE(journals_of(d.path).empty());
}

TEST(CliRepair, AJournalThatDoesNotBelongIsRefusedAndChangesNothing) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::raise_data_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  const std::string journal = repair_ok(dir, {"-R", "all"}, d.path);
  const std::string repaired = sha256_file(d.path);

  // A record corrupted: the journal is refused whole.
  const std::string torn = dir.file("torn.qcow2fs-undo");
  std::filesystem::copy_file(journal, torn);
  const uint64_t jsize = std::filesystem::file_size(torn);
  ASSERT_TRUE(poke(torn, jsize - 20, 1, peek(torn, jsize - 20, 1) ^ 0xff));
  CommandResult r = run_dump({"--undo", torn, d.path});
  EXPECT_EQ(r.exit_code, 64) << "a journal that cannot be used is a bad argument, not a failed write: " << r.describe();
  EXPECT_EQ(sha256_file(d.path), repaired) << r.describe();

  // Another image's journal: one made the same way (its header is byte-identical) but with
  // other data, so that the clusters the journal's records sit in differ.
  TempDir other_dir;
  const std::string other_path = eight_clusters(other_dir);
  ASSERT_FALSE(other_path.empty());
  const damage::Damaged other{other_path, 0, 0, {}};
  const std::string other_sha = sha256_file(other.path);
  r = run_dump({"--undo", journal, other.path});
  EXPECT_EQ(r.exit_code, 64) << r.describe();
  EXPECT_NE(r.err.find("does not belong"), std::string::npos) << r.err;
  EXPECT_TRUE(journals_of(other.path).empty()) << "a refused undo writes no journal either";
  EXPECT_EQ(sha256_file(other.path), other_sha);

  // The right one undoes; again, it is refused; the undo's own journal redoes the repair.
  const std::string undo_journal = expect_undo_restores(dir, journal, d.path, damaged);
  r = run_dump({"--undo", journal, d.path});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("undone already"), std::string::npos) << r.err;
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_EQ(journals_of(d.path).size(), 2u);
  ASSERT_FALSE(undo_journal.empty());
  r = run_dump({"--undo", undo_journal, d.path});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(sha256_file(d.path), repaired) << "an undo can be undone";
}

TEST(CliRepair, CannotBeWalkedMeansRefusedUntouched) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::cluster_bits_40(dir);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  const CommandResult r = run_dump({"-R", "all", d.path});
  EXPECT_EQ(r.exit_code, 64) << r.describe();
  EXPECT_EQ(sha256_file(d.path), damaged);
  // The header field can still be patched by name.
  EXPECT_EQ(run_dump({"-m", "edit", "--field", "header.cluster_bits", "-V", "16", d.path}).exit_code, 0);
  expect_qemu_clean(d.path);
}

}  // namespace
}  // namespace qcow2::test
