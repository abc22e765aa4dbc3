// The renderers behind the mounted tree's files, without a mount: column helpers, the header
// and features tables, extension file names, and the L2 table on a real image.
#include <gtest/gtest.h>

#include <set>

#include "engine/format/l1_entry.h"
#include "engine/io/image.h"
#include "engine/render/column_text.h"
#include "engine/render/extension_file_text.h"
#include "engine/render/header_table_text.h"
#include "engine/render/table_text.h"
#include "engine/render/text_sink.h"
#include "tests/support/fixtures.h"

namespace qcow2 {
namespace {

TEST(renderTreeColumns, TokensSizesAndLines) {
  EXPECT_EQ(token(""), "-");
  EXPECT_EQ(token("a b\x01"), "a\\x20b\\x01");
  EXPECT_EQ(hex_value(0), "0x0");
  EXPECT_EQ(exact_size(65536), "64KiB");
  EXPECT_EQ(exact_size(1ULL << 40), "1TiB");
  EXPECT_EQ(exact_size(1536), "1536");
  EXPECT_EQ(error_line("why"), "error: why\n");
  Line l;
  l.right(7, 4);
  l.hex(0x1f, 6);
  l.left("ab", 3);
  l.mask(0x10);
  l.hex(0, 0);
  EXPECT_EQ(l.view(), "   7 0x1f   ab  0x00000010 0x0");
  Line full;
  for (int i = 0; i < 100; ++i) full.put("0123456789");  // bounded, never overflows
  EXPECT_EQ(full.size(), 240u);
}

TEST(renderTreeTables, HeaderFeaturesAndL2OfARealImage) {
  QCOW2_SKIP_WITHOUT_QEMU();
  test::TempDir dir;
  const std::string image = test::build_fixture(dir, test::standard_fixture("v3_default"));
  ASSERT_FALSE(image.empty());
  auto img = Image::open(image);
  ASSERT_TRUE(img.ok()) << img.status().message();

  StringSink header;
  render_header_table(**img, header);
  std::set<std::string> rows;
  for (size_t at = 0; at < header.str().size();) {
    const size_t nl = header.str().find('\n', at);
    const std::string line = header.str().substr(at, nl - at);
    rows.insert(line.substr(0, line.find(' ')));
    at = nl + 1;
  }
  for (const HeaderField& f : header_fields((*img)->header())) EXPECT_TRUE(rows.count(f.name)) << f.name;
  for (const char* d : {"cluster_size", "l2_entries", "refcount_bits", "virtual_size", "walkable"})
    EXPECT_TRUE(rows.count(d)) << d;

  StringSink features;
  render_features_table(**img, features);
  EXPECT_NE(features.str().find("incompatible   4 no  "), std::string::npos) << features.str();
  EXPECT_NE(features.str().find("compatible     0 no  lazy refcounts"), std::string::npos) << features.str();

  const auto& ext = (*img)->extensions().all;
  ASSERT_FALSE(ext.empty());
  EXPECT_EQ(extension_file_name(ext[0], 0), "0-feature-name-table");
  HeaderExtension unknown;
  unknown.type = 0x12345678;
  EXPECT_EQ(extension_file_name(unknown, 3), "3-unknown-0x12345678");

  auto l1 = (*img)->read_active_l1();
  ASSERT_TRUE(l1.ok());
  StringSink l2;
  const uint64_t table_offset = (*l1)[0] & kOffsetMask;
  std::vector<uint8_t> table;
  ASSERT_TRUE((*img)->read_cluster(table_offset, table).ok());
  render_l2_table(**img, 0, table_offset, table, nullptr, l2);
  EXPECT_EQ(l2.str().rfind("# index", 0), 0u) << l2.str();
  EXPECT_NE(l2.str().find(" zero "), std::string::npos) << l2.str();  // write -z 8M
}

}  // namespace
}  // namespace qcow2
