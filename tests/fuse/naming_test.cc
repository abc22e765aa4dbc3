// Names the image chooses: snapshot ids that cannot be directory names, and extensions this
// program does not know.
#include <gtest/gtest.h>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

TEST_F(FuseTest, ClashingSnapshotIdsAreNamedByPosition) {
  const std::string image = fixture("snapshots");
  ASSERT_FALSE(image.empty());
  uint64_t id_at = 0;
  {
    Mount& m = mount(image, "before");
    ASSERT_TRUE(m.ok()) << m.error();
    const std::string info = m.read("snapshots/2/info");
    id_at = parse_hex(row(info, "entry_offset").at(1)) + 40 + std::stoull(row(info, "extra_data_size").at(1));
    EXPECT_EQ(m.unmount(), 0);
  }
  ASSERT_EQ(peek(image, id_at, 1), uint64_t{'2'});
  ASSERT_TRUE(poke(image, id_at, 1, '1'));  // both snapshots now have id "1"

  Mount& m = mount(image, "after");
  ASSERT_TRUE(m.ok()) << m.error();
  std::vector<std::string> dirs;
  for (const TreeFile& f : walk_tree(m.path("snapshots")))
    if (f.dir && f.rel.find('/') == std::string::npos) dirs.push_back(f.rel);
  EXPECT_EQ(dirs, (std::vector<std::string>{"index-0", "index-1"}));
  const std::string info = m.read("snapshots/index-1/info");
  EXPECT_EQ(row(info, "id").at(1), "1");
  EXPECT_EQ(row(info, "name").at(1), "s2");
  EXPECT_NE(info.find("named by position because the id is shared by 2 snapshots"), std::string::npos) << info;
  EXPECT_FALSE(m.read("snapshots/index-0/l1").empty());
}

TEST_F(FuseTest, UnknownExtensionsAreShownAsHex) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const uint64_t first_extension = peek(image, 100, 4);  // header_length
  ASSERT_EQ(peek(image, first_extension, 4), 0x6803f857u);  // the feature name table
  ASSERT_TRUE(poke(image, first_extension, 4, 0x12345678));
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string text = m.read("extensions/0-unknown-0x12345678");
  const auto lines = lines_of(text);
  ASSERT_GT(lines.size(), 2u) << text;
  EXPECT_EQ(words_of(lines[0]).at(1), "offset");
  EXPECT_EQ(words_of(lines[1]).at(0), "0");
  EXPECT_EQ(words_of(lines[1]).at(1), "00");  // feature type 0 (incompatible), bit 0
  EXPECT_NE(text.find("dirty bit"), std::string::npos) << text;  // the ASCII column
}

}  // namespace
}  // namespace qcow2::test
