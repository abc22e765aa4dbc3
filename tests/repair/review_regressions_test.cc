// Defects an adversarial review of the repairs found, each as the image that showed it: a
// too-large l1_size whose phantom entries were "fixed" inside a snapshot's L2 table and data,
// a refcount too low on a cluster snapshots share legitimately that nothing would raise,
// COPIED flags rewritten from refcounts read out of a data cluster, and a header version no
// writing option called "not qcow2".
#include <gtest/gtest.h>

#include "tests/check/damage_recipes.h"
#include "tests/repair/repair_helpers.h"

namespace qcow2::test {
namespace {

// 8 MiB, 4 KiB clusters: guest data, snapshot s1, more data, snapshot s2, more data.
std::string two_snapshot_image(const TempDir& dir) {
  const std::string p = dir.file("sn.qcow2");
  if (!make_image(p, "8M", {"cluster_size=4k"})) return "";
  if (!qemu_io(p, {"write -P 0xab 0 2M", "write -P 0xcd 5M 512k"})) return "";
  if (!qemu_img({"snapshot", "-c", "s1", p}).ok()) return "";
  if (!qemu_io(p, {"write -P 0x11 0 1M"})) return "";
  if (!qemu_img({"snapshot", "-c", "s2", p}).ok()) return "";
  if (!qemu_io(p, {"write -P 0x22 512k 1M"})) return "";
  return p;
}

// l1_size 4 -> 4096 makes the active L1 run over s1's L2 table and data: the entries past the
// disk are other structures' bytes, and no plan may write them.
TEST(ReviewRegression, TooLargeL1SizeMakesNoEditInsideOtherStructures) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = two_snapshot_image(dir);
  ASSERT_FALSE(p.empty());
  const std::string s1 = guest_hash(dir, p, "s1"), s2 = guest_hash(dir, p, "s2"), active = guest_hash(dir, p);
  const uint64_t l1_size = peek(p, 36, 4);
  ASSERT_TRUE(poke(p, 36, 4, 4096));
  for (const char* mode : {"all", "leak", "error", "rebuild"}) {
    const CommandResult r = run_dump({"-R", mode, p}, dir.path());
    EXPECT_LT(r.exit_code, 64) << mode << ": " << r.describe();
  }
  ASSERT_TRUE(poke(p, 36, 4, l1_size));
  EXPECT_EQ(guest_hash(dir, p, "s1"), s1);
  EXPECT_EQ(guest_hash(dir, p, "s2"), s2);
  EXPECT_EQ(guest_hash(dir, p), active);
}

// A data cluster the active image and a snapshot share (refcount 2, COPIED clear) whose
// refcount reads 0: a refcount error, raised as qemu-img check -r all raises it.
TEST(ReviewRegression, SnapshotSharedClusterWithZeroRefcountIsRaised) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::small_image(dir);
  ASSERT_FALSE(p.empty());
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "s1", p}).ok());
  const std::string active = guest_hash(dir, p), s1 = guest_hash(dir, p, "s1");
  Layout l(p);
  const uint64_t c = l.cluster_of(damage::data_offset(l, 0));
  ASSERT_TRUE(poke(p, l.refcount_entry(c), 2, 0));
  const CommandResult r = run_dump({"-R", "all", p}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe() << "\n" << r.out;
  EXPECT_EQ(peek(p, l.refcount_entry(c), 2), 2u);
  expect_qemu_clean(p);
  EXPECT_EQ(guest_hash(dir, p), active);
  EXPECT_EQ(guest_hash(dir, p, "s1"), s1);
  const CommandResult again = run_dump({"-R", "all", "--dry-run", p}, dir.path());
  EXPECT_TRUE(plan_is_empty(again)) << again.out;
}

// Refcount table entry 0 names a data cluster: its bytes are no refcounts, and COPIED flags
// judged against them would be wrong once the pointer is put back.
TEST(ReviewRegression, NoCopiedFlagFollowsASuspectRefcountBlock) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::small_image(dir, {}, {"write -P 0xab 0 4M", "write -P 0xcd 8M 1M"});
  ASSERT_FALSE(p.empty());
  Layout l(p);
  const uint64_t reftable = peek(p, 48, 8);
  const uint64_t block = peek(p, reftable, 8);
  ASSERT_TRUE(poke(p, reftable, 8, damage::data_offset(l, 0)));
  const CommandResult r = run_dump({"-R", "all", p}, dir.path());
  EXPECT_LT(r.exit_code, 64) << r.describe();
  const std::string plan = r.out.substr(0, r.out.find("\nthe check after it"));
  EXPECT_EQ(plan.find(", copied-l"), std::string::npos) << "no COPIED edit in the plan:\n" << plan;
  ASSERT_TRUE(poke(p, reftable, 8, block));
  expect_qemu_clean(p);
}

// An unknown version is "not a qcow2 image" (65) for every writing option, as for the check,
// and nothing is written.
TEST(ReviewRegression, UnknownVersionIsNotQcow2ForEveryWritingOption) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::small_image(dir);
  ASSERT_FALSE(p.empty());
  ASSERT_TRUE(poke(p, 4, 4, 7));
  const std::string sha = sha256_file(p);
  const std::vector<std::vector<std::string>> options = {
      {"-R", "all"}, {"-R", "all", "--dry-run"}, {"-D", "all"}, {"-A", "x"}, {"-C", "corrupt"}, {"-M", "dirty"}};
  for (std::vector<std::string> args : options) {
    args.push_back(p);
    const CommandResult r = run_dump(args, dir.path());
    EXPECT_EQ(r.exit_code, 65) << args[0] << " " << args[1] << ": " << r.describe();
  }
  EXPECT_EQ(sha256_file(p), sha);
}

}  // namespace
}  // namespace qcow2::test
