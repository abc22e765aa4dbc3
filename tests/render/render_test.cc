// The renderers on their own: sinks, style, small formatters, and rendering into a string
// exactly what the CLI streams to stdout.
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/render/dump_text.h"
#include "engine/render/extension_text.h"
#include "engine/render/header_layout_text.h"
#include "engine/render/header_text.h"
#include "engine/render/snapshot_text.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"
#include "engine/render/text_util.h"
#include "tests/support/fixtures.h"

namespace qcow2 {
namespace {

TEST(renderTextSink, StringSinkCollects) {
  StringSink s;
  s.write("a");
  s.print("{}-{:04x}\n", "b", 255);
  EXPECT_EQ(s.str(), "ab-00ff\n");
  EXPECT_EQ(s.take(), "ab-00ff\n");
}

TEST(renderTextSink, FileSinkStreamsAndReportsFailure) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  FileSink sink(f);
  sink.print("line {}\n", 1);
  sink.write("line 2\n");
  EXPECT_TRUE(sink.ok());
  std::rewind(f);
  char buf[64] = {};
  EXPECT_EQ(std::fread(buf, 1, sizeof buf - 1, f), 14u);
  EXPECT_STREQ(buf, "line 1\nline 2\n");
  std::fclose(f);

  std::FILE* full = std::fopen("/dev/full", "w");
  if (!full) GTEST_SKIP() << "no /dev/full";
  std::setvbuf(full, nullptr, _IONBF, 0);
  FileSink bad(full);
  bad.write("x");
  EXPECT_FALSE(bad.ok());
  std::fclose(full);
}

TEST(renderStyle, EmptyWithoutColour) {
  const Style off(false);
  EXPECT_EQ(off.error(), "");
  EXPECT_EQ(off.counter(), "");
  EXPECT_EQ(off.section(), "");
  EXPECT_EQ(off.reset(), "");
  const Style on(true);
  EXPECT_EQ(on.error(), "\033[31m");
  EXPECT_EQ(on.counter(), "\033[33m");
  EXPECT_EQ(on.section(), "\033[32m");
  EXPECT_EQ(on.title(), "\033[36m");
  EXPECT_EQ(on.reset(), "\033[0m");
}

TEST(renderTextUtil, Sizes) {
  EXPECT_EQ(size_bmg(1073741824), "1073741824 / 1024.00M / 1.00G");
  EXPECT_EQ(size_bmg(0), "0 / 0.00M / 0.00G");
}

TEST(renderTextUtil, PrintableEscapesControlAndHighBytes) {
  EXPECT_EQ(escape_text("snap 1"), "snap 1");
  EXPECT_EQ(escape_text(std::string("a\nb\x01\xff\\", 6)), "a\\x0ab\\x01\\xff\\\\");
}

TEST(renderTextUtil, HexRowsStopAtTheLimit) {
  std::vector<uint8_t> bytes(40, 0xab);
  StringSink s;
  hex_rows(s, bytes, "  ", 20);
  EXPECT_EQ(s.str(),
            "  0000: ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab\n"
            "  0010: ab ab ab ab\n"
            "  ... 20 more bytes not shown\n");
}

TEST(renderSnapshotText, DateAndClock) {
  EXPECT_EQ(snapshot_date(0), "1970-01-01 00:00:00");
  EXPECT_EQ(snapshot_date(1714557600), "2024-05-01 10:00:00");
  EXPECT_EQ(snapshot_vm_clock(0), "00:00:00.000");
  EXPECT_EQ(snapshot_vm_clock(3723456000000ULL), "01:02:03.456");
  EXPECT_EQ(snapshot_vm_clock(100ULL * 3600 * 1000000000), "100:00:00.000");
}

TEST(renderHeaderLayoutText, EveryFieldOnce) {
  StringSink s;
  render_header_layout(s);
  for (const HeaderField& f : header_layout())
    EXPECT_NE(s.str().find(fmt::format("{:<28}offset: {:3}", f.name, f.offset)), std::string::npos) << f.name;
}

TEST(renderExtensionText, UnknownExtensionAsHex) {
  Extensions ext;
  HeaderExtension x;
  x.type = 0x12345678;
  x.length = 3;
  x.offset = 0x68;
  x.data = {1, 2, 3};
  ext.all.push_back(x);
  HeaderExtension fmt_ext;
  fmt_ext.type = kExtBackingFormat;
  fmt_ext.length = 5;
  fmt_ext.offset = 0x78;
  fmt_ext.data = {'q', 'c', 'o', 'w', '2'};
  ext.all.push_back(fmt_ext);
  StringSink s;
  render_extensions(ext, Style(false), s);
  EXPECT_NE(s.str().find("extension[0]: type 0x12345678 (" + std::string(extension_name(0x12345678)) +
                         "), offset 0x68, length 3: 3 bytes\n        0000: 01 02 03\n"),
            std::string::npos)
      << s.str();
  EXPECT_NE(s.str().find("extension[1]: type 0xe2792aca (" + std::string(extension_name(kExtBackingFormat)) +
                         "), offset 0x78, length 5: qcow2\n"),
            std::string::npos)
      << s.str();
}

// The FUSE front renders into strings what the CLI streams: both must be the same text.
TEST(renderToString, SameAsTheCli) {
  QCOW2_SKIP_WITHOUT_QEMU();
  test::TempDir dir;
  const std::string image = test::build_fixture(dir, test::standard_fixture("snapshots"));
  ASSERT_FALSE(image.empty());
  auto img = Image::open(image);
  ASSERT_TRUE(img.ok()) << img.status().message();
  StringSink s;
  const Style st(false);
  render_header(**img, st, s);
  render_snapshots(**img, st, s);
  render_bitmaps(**img, st, s);
  test::CommandResult info = test::run_dump({"-m", "info", image}, dir.path());
  ASSERT_EQ(info.exit_code, 0) << info.describe();
  EXPECT_EQ(s.str(), info.out);

  s.write("\n");
  auto layout = Layout::build(**img);
  ASSERT_TRUE(layout.ok()) << layout.status().message();
  const L1Dump active{active_section_title(), (*img)->header().l1_table_offset, (*img)->header().l1_size,
                      &layout->active_l1().entries, {}, {}};
  ShownTables shown;
  ASSERT_TRUE(render_l1_dump(**img, *layout, active, shown, DumpOptions{}, st, s).ok());
  test::CommandResult dump = test::run_dump({"-m", "dump", "-s", "active", "-o", "snapshot", image}, dir.path());
  ASSERT_EQ(dump.exit_code, 0) << dump.describe();
  EXPECT_EQ(s.str(), dump.out);
}

}  // namespace
}  // namespace qcow2
