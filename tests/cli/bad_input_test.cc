// qcow2-dump on inputs that are not images or are damaged ones: the right exit code, exactly
// one stderr line naming what is wrong, never a crash, and never a changed byte.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "tests/cli/dump_lines.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

// One failure line on stderr, mentioning `needle`, and the expected code.
void expect_one_error_line(const CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.describe();
  const auto lines = split_lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.describe();
  EXPECT_EQ(lines[0].rfind("qcow2-dump: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(needle), std::string::npos) << "expected '" << needle << "' in: " << lines[0];
}

void expect_not_an_image(const std::string& path, int code, const std::string& needle) {
  for (const char* mode : {"info", "dump"}) {
    SCOPED_TRACE(mode);
    CommandResult r = run_dump({"-m", mode, path});
    expect_one_error_line(r, code, needle);
    EXPECT_EQ(r.out, "");
  }
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(cliNotAnImage, MissingFile) {
  TempDir dir;
  expect_not_an_image(dir.file("nosuch.qcow2"), 66, "nosuch.qcow2");
}

TEST(cliNotAnImage, Directory) {
  TempDir dir;
  expect_not_an_image(dir.path(), 66, "directory");
}

TEST(cliNotAnImage, EmptyFile) {
  TempDir dir;
  write_file(dir.file("empty"), "");
  expect_not_an_image(dir.file("empty"), 65, "empty");
}

TEST(cliNotAnImage, TenBytes) {
  TempDir dir;
  write_file(dir.file("ten"), "QFI\xfb\0\0\0\3ab");
  expect_not_an_image(dir.file("ten"), 65, "too short");
}

TEST(cliNotAnImage, TextFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i) text += "this is a text file, not a disk image\n";
  write_file(dir.file("notes.txt"), text);
  const std::string before = sha256_file(dir.file("notes.txt"));
  expect_not_an_image(dir.file("notes.txt"), 65, "magic");
  EXPECT_EQ(sha256_file(dir.file("notes.txt")), before);
}

TEST(cliNotAnImage, RawImageOfZeros) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  ASSERT_TRUE(qemu_img({"create", "-q", "-f", "raw", dir.file("zeros.raw"), "1M"}).ok());
  const std::string before = sha256_file(dir.file("zeros.raw"));
  expect_not_an_image(dir.file("zeros.raw"), 65, "magic");
  EXPECT_EQ(sha256_file(dir.file("zeros.raw")), before);
}

// A damaged copy of the "snapshots" fixture.
struct Damage {
  std::string name;
  std::function<bool(const std::string& image)> apply;
  std::vector<int> codes;  // acceptable exit codes (info and dump alike)
  std::string needle;      // in the stderr line when the code is not 0 ("" = anything)
  bool opens = true;       // the header block is printed
};

void PrintTo(const Damage& d, std::ostream* os) { *os << d.name; }

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::vector<Damage> damages() {
  auto at = [](uint64_t off, unsigned width, uint64_t value) {
    return [=](const std::string& p) { return poke(p, off, width, value); };
  };
  // An offset well past the end of the file, cluster aligned.
  auto past_end = [](uint64_t off) {
    return [=](const std::string& p) { return poke(p, off, 8, (file_size(p) + (1 << 20)) & ~0xffffULL); };
  };
  return {
      {"version_4", at(4, 4, 4), {65}, "version is 4", false},
      {"cluster_bits_40", at(20, 4, 40), {6}, "cluster_bits is 40"},
      {"l1_size_2_31", at(36, 4, 0x80000000ULL), {6}, "l1_size is 2147483648"},
      {"l1_table_offset_past_eof", past_end(40), {6}, "l1_table_offset"},
      {"refcount_table_offset_past_eof", past_end(48), {6}, "refcount_table_offset"},
      {"nb_snapshots_70000", at(60, 4, 70000), {6}, "nb_snapshots is 70000"},
      {"snapshot_name_size_ffff",
       [](const std::string& p) { return poke(p, peek(p, 64, 8) + 14, 2, 0xffff); },
       {5},
       "snapshot"},
      {"unknown_incompatible_bit", at(72, 8, 0x20), {6}, "incompatible_features"},
      {"header_length_20", at(100, 4, 20), {6}, "header_length is 20"},
      {"refcount_order_9", at(96, 4, 9), {6}, "refcount_order is 9"},
      {"truncated_to_100", [](const std::string& p) { return truncate_file(p, 100); }, {65}, "too short", false},
      {"truncated_to_half", [](const std::string& p) { return truncate_file(p, file_size(p) / 2); },
       {0, 5, 6}, ""},
  };
}

class DamagedImage : public ::testing::TestWithParam<Damage> {};

TEST_P(DamagedImage, ReportsWithoutCrashingOrWriting) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damage& d = GetParam();
  TempDir dir;
  const std::string image = build_fixture(dir, standard_fixture("snapshots"));
  ASSERT_FALSE(image.empty());
  ASSERT_TRUE(d.apply(image));
  const std::string before = sha256_file(image);
  ASSERT_FALSE(before.empty());
  for (const char* mode : {"info", "dump"}) {
    SCOPED_TRACE(mode);
    CommandResult r = run_dump({"-m", mode, "-f", image}, dir.path());
    ASSERT_FALSE(r.timed_out);
    EXPECT_LT(r.exit_code, 128) << r.describe();
    EXPECT_NE(std::find(d.codes.begin(), d.codes.end(), r.exit_code), d.codes.end()) << r.describe();
    if (r.exit_code == 0) {
      EXPECT_EQ(r.err, "");
    } else {
      expect_one_error_line(r, r.exit_code, d.needle);
    }
    if (d.opens) {
      EXPECT_EQ(r.out.rfind("File: " + image + "\n", 0), 0u) << r.out.substr(0, 200);
      EXPECT_NE(r.out.find("\nmagic:"), std::string::npos);
      EXPECT_NE(r.out.find("\nl1_size:"), std::string::npos) << "every readable field is printed";
    }
    if (r.exit_code == 6) {
      EXPECT_NE(r.out.find("Header problems:"), std::string::npos) << "the problem is also on stdout";
    }
    EXPECT_EQ(sha256_file(image), before) << "qcow2-dump changed the image";
  }
}

INSTANTIATE_TEST_SUITE_P(cli, DamagedImage, ::testing::ValuesIn(damages()),
                         [](const auto& info) { return info.param.name; });

// A damaged snapshot table does not hide the active tables: dump prints them and exits 5.
TEST(cliDamagedImage, SnapshotTableDamageStillDumpsActiveTables) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = build_fixture(dir, standard_fixture("snapshots"));
  ASSERT_FALSE(image.empty());
  ASSERT_TRUE(poke(image, peek(image, 64, 8) + 14, 2, 0xffff));
  CommandResult r = run_dump({"-m", "dump", image}, dir.path());
  EXPECT_EQ(r.exit_code, 5) << r.describe();
  EXPECT_NE(r.out.find("\nActive Snapshot:\n"), std::string::npos);
  EXPECT_NE(r.out.find("\nRefcount Table: [offset:"), std::string::npos);
  EXPECT_NE(r.out.find("snapshot table damaged: first bad entry snapshot[1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last good entry: snapshot[0] id 1"), std::string::npos);
}

// An L1 entry pointing past the end of the file is shown, flagged and not followed.
TEST(cliDamagedImage, L2PointerPastEndIsReportedNotFollowed) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = build_fixture(dir, standard_fixture("v3_default"));
  ASSERT_FALSE(image.empty());
  const uint64_t l1 = peek(image, 40, 8);
  ASSERT_TRUE(poke(image, l1, 8, 0x8000000010000000ULL));
  CommandResult r = run_dump({"-m", "dump", image}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("l1 table[   0], l2 offset: 0x10000000 [skipped: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("L1 Entry: unaligned: 0, invalid: 1, unused: 0, used: 0"), std::string::npos);
  EXPECT_EQ(r.out.find("    l2 table["), std::string::npos);
}

// Reserved bits are always shown, -f or not.
TEST(cliDamagedImage, ReservedBitsAreShown) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = build_fixture(dir, standard_fixture("v3_default"));
  ASSERT_FALSE(image.empty());
  const uint64_t l2 = peek(image, peek(image, 40, 8), 8) & 0x00fffffffffffe00ULL;
  const uint64_t entry = peek(image, l2, 8);
  ASSERT_NE(entry, 0u);
  ASSERT_TRUE(poke(image, l2, 8, entry | 0x2));
  CommandResult r = run_dump({"-m", "dump", image}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("l2 table[   0], data offset: 0x50000 [reserved bits 0x2] | vdisk offset: 0x0"),
            std::string::npos) << r.out;
}

}  // namespace
}  // namespace qcow2::test
