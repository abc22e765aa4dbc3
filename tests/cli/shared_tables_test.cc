// A table shared by many pointers is shown once per output, and the others say where: an L1
// table whose every entry names one L2 table costs one table in the dump and in the map, not
// one per entry (a 384 KiB image once gave a 121 MB map).
#include <gtest/gtest.h>

#include "engine/walk/guest_map.h"
#include "tests/check/all_recipes.h"

namespace qcow2::test {
namespace {

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A 16 GiB image (32 L1 entries of 512 MiB each) whose L1 entries all name the L2 table of
// entry 0, which maps two data clusters.
std::string one_l2_for_all(const TempDir& dir) {
  const std::string p = dir.file("a.qcow2");
  if (!make_image(p, "16G") || !qemu_io(p, {"write -P 0x11 0 64k", "write -P 0x12 64k 64k"})) return "";
  Layout l(p);
  const uint64_t e0 = peek(p, l.l1_entry(0), 8);
  for (uint64_t i = 1; i < 32; ++i)
    if (!poke(p, l.l1_entry(i), 8, e0)) return "";
  return p;
}

TEST(cliSharedTables, DumpShowsASharedL2TableOnceAndNamesItForTheOthers) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = one_l2_for_all(dir);
  ASSERT_FALSE(p.empty());
  const CommandResult r = run_dump({"-m", "dump", "-s", "active", "-o", "snapshot", p});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 6) << r.describe();
  EXPECT_EQ(count_of(r.out, "    l2 table[   0], data offset:"), 1u) << r.out;
  EXPECT_EQ(count_of(r.out, "[same L2 table as Active Snapshot l1 table[0]: its entries are listed there]"), 31u)
      << r.out;
  EXPECT_NE(r.out.find("[shared: 32 L1 entries of this dump name it]"), std::string::npos) << r.out;
  // The check calls the sharing what it is: 32 references to a cluster with refcount 1.
  const CommandResult c = run_dump({"-m", "error", p});
  EXPECT_EQ(c.exit_code, 4) << c.describe();
  EXPECT_NE(c.out.find("[cluster-shared]"), std::string::npos) << c.out;
}

TEST(cliSharedTables, GuestMapListsASharedL2TableOnce) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = one_l2_for_all(dir);
  ASSERT_FALSE(p.empty());
  auto img = Image::open(p);
  ASSERT_TRUE(img.ok());
  auto l1 = (*img)->read_active_l1();
  ASSERT_TRUE(l1.ok());
  auto map = guest_map(**img, (*img)->header().l1_table_offset, *l1);
  ASSERT_TRUE(map.ok()) << map.status().message();
  size_t data = 0, same = 0;
  for (const GuestExtent& x : *map) {
    data += x.kind == ExtentKind::kData;
    if (x.kind == ExtentKind::kSameL2) {
      ++same;
      EXPECT_EQ(x.host_offset, 0u) << "names the range of L1 entry 0";
      EXPECT_EQ(x.length, 512ULL << 20);
    }
  }
  EXPECT_EQ(data, 1u) << "the two clusters of entry 0, merged";
  EXPECT_EQ(same, 31u);
}

}  // namespace
}  // namespace qcow2::test
