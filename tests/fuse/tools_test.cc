// The tree under everyday tools: tar, diff -r, concurrent cat, and listings that page.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

TEST_F(FuseTest, TarArchivesEveryFileWithItsExactSize) {
  const std::string image = fixture("snapshots");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  m.wait_for_check();
  const auto files = walk_tree(m.dir());

  const std::string tar = dir_.file("tree.tar");
  const CommandResult c = run({"tar", "cf", tar, "-C", m.dir(), "."});
  ASSERT_TRUE(c.ok()) << c.describe();
  const CommandResult list = run({"tar", "tvf", tar});
  ASSERT_TRUE(list.ok()) << list.describe();
  std::map<std::string, uint64_t> archived;  // path -> size
  for (const std::string& line : lines_of(list.out)) {
    const auto w = words_of(line);
    ASSERT_GE(w.size(), 6u) << line;
    std::string name = w.back();
    if (name.rfind("./", 0) == 0) name = name.substr(2);
    if (!name.empty() && name.back() == '/') name.pop_back();
    archived[name] = std::stoull(w[2]);
  }
  size_t regular = 0;
  for (const TreeFile& f : files) {
    ASSERT_TRUE(archived.count(f.rel)) << f.rel << " is not in the archive";
    if (f.dir) continue;
    ++regular;
    EXPECT_EQ(archived[f.rel], f.size) << f.rel;
    EXPECT_GT(f.size, 0u) << f.rel;
  }
  EXPECT_GT(regular, 15u);

  // What tar stored is what cat reads.
  const std::string out = dir_.file("extracted");
  std::filesystem::create_directory(out);
  const CommandResult x = run({"tar", "xf", tar, "-C", out});
  ASSERT_TRUE(x.ok()) << x.describe();
  const CommandResult d = run({"diff", "-r", out, m.dir()});
  EXPECT_TRUE(d.ok()) << d.describe();
}

TEST_F(FuseTest, TwoMountsOfOneImageAreIdentical) {
  const std::string image = fixture("bitmap");
  ASSERT_FALSE(image.empty());
  Mount& a = mount(image, "a");
  Mount& b = mount(image, "b");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  a.wait_for_check();
  b.wait_for_check();
  const CommandResult d = run({"diff", "-r", a.dir(), b.dir()});
  EXPECT_TRUE(d.ok()) << d.describe();
  EXPECT_EQ(d.out, "");
}

// Four readers `cat` the whole tree at once and get the same bytes.
void expect_identical_readers(const std::string& dir, const std::string& find_args) {
  const std::string script =
      fmt::format("cd '{}' && find . -type f {} | LC_ALL=C sort | xargs cat", dir, find_args);
  std::vector<CommandResult> results(4);
  std::vector<std::thread> readers;
  for (auto& r : results) readers.emplace_back([&r, &script] { r = run({"sh", "-c", script}); });
  for (auto& t : readers) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_FALSE(r.out.empty());
    EXPECT_TRUE(r.out == results[0].out) << "a reader saw different bytes";
  }
}

TEST_F(FuseTest, ConcurrentReadersSeeIdenticalBytes) {
  const std::string image = fixture("snapshots");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  // Right after mounting: the files that wait for the check, and those that never change.
  expect_identical_readers(m.dir(), "\\( -name 'report.*' -o -name clusters -o -name header -o -name info \\)");
  m.wait_for_check();
  expect_identical_readers(m.dir(), "");
}

TEST_F(FuseTest, LargeDirectoriesListEveryTableOnce) {
  // 512-byte clusters map 32 KiB per L2 table: 512 tables for 16 MiB, several readdir pages.
  const std::string image = dir_.file("small_clusters.qcow2");
  ASSERT_TRUE(make_image(image, "16M", {"cluster_size=512", "preallocation=metadata"}));
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(m.path("l2")))
    names.push_back(e.path().filename().string());
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(names.size(), 512u);
  EXPECT_EQ(unique.size(), names.size());
  for (int i = 0; i < 512; ++i) EXPECT_TRUE(unique.count(fmt::to_string(i))) << i;

  struct stat st {};
  EXPECT_EQ(stat(m.path("l2/511").c_str(), &st), 0);
  for (const char* bad : {"l2/007", "l2/512", "l2/x", "l2/-1", "refcount/01", "nothing"}) {
    EXPECT_NE(stat(m.path(bad).c_str(), &st), 0) << bad;
    EXPECT_EQ(errno, ENOENT) << bad;
  }
  // Every entry of a preallocated table points at a cluster.
  const auto l2 = lines_of(m.read("l2/100"));
  EXPECT_EQ(l2.size(), 1u + 64u);
  EXPECT_NE(l2.back().find(" normal "), std::string::npos) << l2.back();
}

}  // namespace
}  // namespace qcow2::test
