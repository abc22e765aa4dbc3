// An L2 table named by several L1 entries is shown once in the tree: the first pointer's l2
// file holds it and the others are symbolic links to that file. A snapshot's unchanged tables
// link to the active image's; an L1 whose every entry names one table costs one table, however
// many entries there are (grep -r does not follow links; cat does).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "tests/check/all_recipes.h"
#include "tests/fuse/fuse_test_base.h"

namespace qcow2::test {
namespace {

std::string link_of(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

bool is_symlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

class SharedL2Test : public FuseTest {};

TEST_F(SharedL2Test, ASnapshotsUnchangedTableLinksToTheActiveOnes) {
  const std::string image = dir_.file("a.qcow2");
  ASSERT_TRUE(make_image(image, "64M"));
  ASSERT_TRUE(qemu_io(image, {"write -P 0x11 0 64k"}));
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "s1", image}).ok());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FALSE(is_symlink(m.path("l2/0")));
  ASSERT_TRUE(is_symlink(m.path("snapshots/1/l2/0")));
  EXPECT_EQ(link_of(m.path("snapshots/1/l2/0")), "../../../l2/0");
  // Reading through the link reads the one table.
  EXPECT_EQ(m.read("snapshots/1/l2/0"), m.read("l2/0"));
  EXPECT_NE(m.read("l2/0").find("0x50000"), std::string::npos) << m.read("l2/0");
  // After a write the active table is copied: the snapshot's is its own again.
  EXPECT_EQ(m.unmount(), 0);
  ASSERT_TRUE(qemu_io(image, {"write -P 0x22 0 64k"}));
  Mount& again = mount(image, "mnt2");
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(is_symlink(again.path("snapshots/1/l2/0")));
  EXPECT_NE(again.read("snapshots/1/l2/0"), again.read("l2/0"));
}

TEST_F(SharedL2Test, AnL1NamingOneTableEverywhereShowsItOnce) {
  const std::string image = dir_.file("a.qcow2");
  ASSERT_TRUE(make_image(image, "16G"));
  ASSERT_TRUE(qemu_io(image, {"write -P 0x11 0 64k"}));
  Layout l(image);
  const uint64_t e0 = peek(image, l.l1_entry(0), 8);
  for (uint64_t i = 1; i < 32; ++i) ASSERT_TRUE(poke(image, l.l1_entry(i), 8, e0));
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FALSE(is_symlink(m.path("l2/0")));
  for (uint64_t i = 1; i < 32; ++i) {
    const std::string p = m.path("l2/" + std::to_string(i));
    ASSERT_TRUE(is_symlink(p)) << p;
    EXPECT_EQ(link_of(p), "0");
  }
  // grep -r reads the table once (links are not followed): its one data line, once.
  const CommandResult g = run({"grep", "-r", "-c", "0x50000", m.path("l2")});
  EXPECT_EQ(g.out, m.path("l2") + "/0:1\n") << g.describe();
  EXPECT_EQ(m.unmount(), 0) << m.log();
}

}  // namespace
}  // namespace qcow2::test
