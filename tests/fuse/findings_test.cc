// The check's results appear beside the entries they are about: an L2 entry's finding on its
// line, a leaked cluster's mark in its refcount block, and the cluster map's roles.
#include <gtest/gtest.h>

#include "engine/format/l1_entry.h"
#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

// The line of a table file whose first column is `index`.
std::string line_of(const std::string& text, const std::string& index) {
  for (const std::string& line : lines_of(text)) {
    auto w = words_of(line);
    if (!w.empty() && w[0] == index) return line;
  }
  return "";
}

TEST_F(FuseTest, AnL2FindingIsOnItsEntrysLine) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const uint64_t l2 = peek(image, peek(image, 40, 8), 8) & kOffsetMask;
  ASSERT_NE(l2, 0u);
  ASSERT_TRUE(poke(image, l2, 8, peek(image, l2, 8) | 0x2));  // a reserved bit of entry 0
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "corrupt 6\n");
  const std::string text = m.read("l2/0");
  const std::string line = line_of(text, "0");
  EXPECT_NE(line.find("reserved=0x2"), std::string::npos) << text;
  EXPECT_NE(line.find("l2-reserved-bits: "), std::string::npos) << text;
  // Other entries carry no finding.
  const std::string other = line_of(text, "16");
  ASSERT_FALSE(other.empty()) << text;
  EXPECT_EQ(words_of(other).size(), 6u) << other;
}

TEST_F(FuseTest, ALeakIsMarkedInItsRefcountBlock) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const uint64_t block = peek(image, peek(image, 48, 8), 8);  // refcount block 0
  ASSERT_EQ(peek(image, block, 2), 1u);                       // cluster 0, the header
  ASSERT_TRUE(poke(image, block, 2, 2));
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  // Before the check is done the computed column is "-"; afterwards it is the count.
  const std::string early = line_of(m.read("refcount/0"), "0");
  EXPECT_TRUE(early.find(" - ") != std::string::npos || early.find("leak") != std::string::npos) << early;
  EXPECT_EQ(m.wait_for_check(), "leaks 1\n");
  EXPECT_EQ(words_of(line_of(m.read("refcount/0"), "0")),
            (std::vector<std::string>{"0", "0x0", "2", "1", "leak"}));
  EXPECT_EQ(words_of(line_of(m.read("refcount/0"), "1")).back(), "ok");
  EXPECT_EQ(words_of(line_of(m.read("clusters"), "0")),
            (std::vector<std::string>{"0", "0x0", "1", "header"}));
}

TEST_F(FuseTest, AFreedClusterIsFreeInTheClusterMap) {
  const std::string image = fixture("v3_default");  // `discard 40M 64k` leaves a hole
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "good 0\n");
  const std::string clusters = m.read("clusters");
  bool free_run = false;
  uint64_t next = 0;
  for (const std::string& line : lines_of(clusters)) {
    if (line[0] == '#') continue;
    auto w = words_of(line);
    ASSERT_EQ(w.size(), 4u) << line;
    EXPECT_EQ(std::stoull(w[0]), next) << "runs must be contiguous: " << line;
    next = std::stoull(w[0]) + std::stoull(w[2]);
    free_run |= w[3] == "free";
  }
  EXPECT_TRUE(free_run) << clusters;
}

}  // namespace
}  // namespace qcow2::test
