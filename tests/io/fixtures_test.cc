// Self-test of tests/support: the command runner, the poke tool, and every standard fixture
// (QEMU must consider each one a clean image that matches its spec).
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

TEST(RunSelftest, CapturesStdoutAndStderrSeparately) {
  CommandResult r = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.describe().find("exited 3"), std::string::npos) << r.describe();
}

TEST(RunSelftest, LargeOutputOnBothPipesDoesNotDeadlock) {
  CommandResult r =
      run({"sh", "-c", "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2; "
                       "head -c 1000000 /dev/zero"});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out.size(), 4000000u);
  EXPECT_EQ(r.err.size(), 2000000u);
}

TEST(RunSelftest, RunsInTheGivenDirectoryWithoutAShell) {
  TempDir dir;
  CommandResult r = run({"pwd"}, dir.path());
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(std::filesystem::canonical(r.out.substr(0, r.out.size() - 1)),
            std::filesystem::canonical(dir.path()));
  // A metacharacter stays a literal argument.
  r = run({"echo", "$HOME;*"});
  EXPECT_EQ(r.out, "$HOME;*\n");
}

TEST(RunSelftest, ReportsMissingProgramsSignalsAndTimeouts) {
  CommandResult r = run({"/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("cannot execute"), std::string::npos) << r.err;

  r = run({"sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.exit_code, 128 + 15);

  auto start = std::chrono::steady_clock::now();
  r = run({"sh", "-c", "sleep 30 & sleep 30"}, "", 1);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_NE(r.describe().find("timed out"), std::string::npos);
}

TEST(TempDirSelftest, RemovesEverythingOnDestruction) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    std::filesystem::create_directories(dir.file("a/b"));
    ASSERT_TRUE(run({"touch", dir.file("a/b/c")}).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PokeSelftest, WritesAndReadsBigEndian) {
  TempDir dir;
  const std::string f = dir.file("f");
  ASSERT_TRUE(run({"truncate", "-s", "64", f}).ok());
  ASSERT_TRUE(poke(f, 8, 8, 0x0102030405060708ULL));
  ASSERT_TRUE(poke(f, 0, 2, 0xbeef));
  ASSERT_TRUE(poke(f, 4, 4, 0xdeadbeef));
  ASSERT_TRUE(poke(f, 2, 1, 0x7f));
  auto bytes = read_file_bytes(f);
  ASSERT_EQ(bytes.size(), 64u);
  EXPECT_EQ((std::vector<uint8_t>(bytes.begin(), bytes.begin() + 16)),
            (std::vector<uint8_t>{0xbe, 0xef, 0x7f, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7,
                                  8}));
  EXPECT_EQ(peek(f, 8, 8), 0x0102030405060708ULL);
  EXPECT_EQ(peek(f, 9, 2), 0x0203u);
  EXPECT_EQ(peek(f, 0, 4), 0xbeef7f00u);

  ASSERT_TRUE(fill(f, 16, 4, 0xab));
  EXPECT_EQ(peek(f, 16, 4), 0xababababu);
  EXPECT_EQ(peek(f, 20, 1), 0u);
  ASSERT_TRUE(truncate_file(f, 10));
  EXPECT_EQ(read_file_bytes(f).size(), 10u);
  EXPECT_EQ(sha256_file(f).size(), 64u);
}

TEST(PokeSelftest, RejectsBadUsageWithExit2AndIoErrorsWithExit1) {
  TempDir dir;
  const std::string f = dir.file("f");
  ASSERT_TRUE(run({"truncate", "-s", "16", f}).ok());
  const std::string bin = poke_bin();
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {bin},
           {bin, f},
           {bin, f, "0", "3"},            // width
           {bin, f, "0", "1", "256"},     // does not fit
           {bin, f, "x", "1"},            // offset
           {bin, f, "0x", "1"},           // empty hex
           {bin, f, "-1", "1"},           // negative
           {bin, f, "--fill", "0", "1"},  // missing BYTE
           {bin, f, "--fill", "0", "1", "0x100"},
           {bin, f, "--bogus", "1"},
       }) {
    CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("qcow2-poke:"), std::string::npos) << r.describe();
  }
  CommandResult r = run({bin, dir.file("missing"), "0", "1", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  r = run({bin, f, "15", "2"});  // runs past the end
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  r = run({bin, f, "0x0f", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "0x0\n");
}

class FixturesSelftest : public ::testing::TestWithParam<FixtureSpec> {};

TEST_P(FixturesSelftest, BuildsACleanImageMatchingItsSpec) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const FixtureSpec& spec = GetParam();
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  const std::string image = build_fixture(dir, spec);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(image.empty());
  RecordProperty("build_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 5.0) << "fixtures should stay fast";

  // Clean: exit 0 (2 = corruption, 3 = leaks). Run in the image's directory for data_file.
  CommandResult check = qemu_img({"check", image}, dir.path());
  EXPECT_EQ(check.exit_code, 0) << check.describe();
  nlohmann::json cj = qemu_img_json({"check", image}, dir.path());
  ASSERT_TRUE(cj.is_object());
  EXPECT_EQ(cj.value("check-errors", -1), 0) << cj.dump(2);
  EXPECT_EQ(cj.value("leaks", 0), 0) << cj.dump(2);
  EXPECT_EQ(cj.value("corruptions", 0), 0) << cj.dump(2);
  if (spec.compressed) {
    EXPECT_GT(cj.value("compressed-clusters", 0), 0) << cj.dump(2);
  }
  if (!spec.io_commands.empty()) {
    EXPECT_GT(cj.value("allocated-clusters", 0), 0) << cj.dump(2);
  }

  nlohmann::json info = qemu_img_json({"info", image}, dir.path());
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info.value("format", ""), "qcow2");
  EXPECT_EQ(info.value("virtual-size", uint64_t{0}), spec.virtual_size);
  EXPECT_EQ(info.value("cluster-size", uint64_t{0}), spec.cluster_size());
  const nlohmann::json data = info["format-specific"]["data"];
  EXPECT_EQ(data.value("compat", ""), spec.version == 2 ? "0.10" : "1.1");
  EXPECT_EQ(data.value("refcount-bits", 0u), spec.refcount_bits());
  EXPECT_EQ(data.value("extended-l2", false), spec.extended_l2);
  if (spec.version >= 3) {
    EXPECT_EQ(data.value("compression-type", ""),
              spec.compression_type == CompressionType::kZstd ? "zstd" : "zlib");
  }
  EXPECT_EQ(data.value("data-file", ""), spec.data_file ? spec.data_file_name() : "");
  EXPECT_EQ(info.value("backing-filename", ""), spec.with_backing ? spec.backing_name() : "");

  std::vector<std::string> snapshots;
  for (const auto& s : info.value("snapshots", nlohmann::json::array())) {
    snapshots.push_back(s.value("name", ""));
  }
  std::vector<std::string> want_snapshots;
  for (const auto& s : spec.snapshots) want_snapshots.push_back(s.name);
  EXPECT_EQ(snapshots, want_snapshots);

  std::vector<std::string> bitmaps;
  for (const auto& b : data.value("bitmaps", nlohmann::json::array())) {
    bitmaps.push_back(b.value("name", ""));
  }
  EXPECT_EQ(bitmaps, spec.with_bitmap ? std::vector<std::string>{kBitmapName}
                                      : std::vector<std::string>{});

  // The header bytes agree with the spec (read independently of the engine).
  EXPECT_EQ(peek(image, 0, 4), 0x514649fbu);
  EXPECT_EQ(peek(image, 4, 4), spec.version);
  EXPECT_EQ(peek(image, 20, 4), spec.cluster_bits);
  if (spec.version >= 3) {
    EXPECT_EQ(peek(image, 96, 4), spec.refcount_order);
  }

  if (spec.preallocation == "full") {
    struct stat st {};
    ASSERT_EQ(stat(image.c_str(), &st), 0);
    EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, spec.virtual_size);
  }
}

INSTANTIATE_TEST_SUITE_P(Standard, FixturesSelftest, ::testing::ValuesIn(standard_fixtures()),
                         FixtureName());

TEST(FixturesSelftestList, NamesAreUniqueAndCoverTheRequiredVariants) {
  std::set<std::string> names;
  for (const auto& f : standard_fixtures()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
  }
  for (const char* n :
       {"v2", "v3_default", "cluster_512", "cluster_4k", "cluster_2m", "refcount_1",
        "refcount_16", "refcount_64", "snapshots", "backing", "zlib_compressed",
        "zstd_compressed", "extended_l2_64k", "extended_l2_128k", "data_file", "bitmap",
        "prealloc_metadata", "prealloc_full"}) {
    EXPECT_TRUE(names.count(n)) << "missing " << n;
  }
  EXPECT_EQ(standard_fixture("snapshots").snapshots.size(), 2u);
}

TEST(FixturesSelftestContent, GuestDataIsWhatTheCommandsWrote) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  // Several fixtures in one directory, checked with qemu-io's own pattern reads.
  const std::string backing = build_fixture(dir, standard_fixture("backing"));
  const std::string snaps = build_fixture(dir, standard_fixture("snapshots"));
  const std::string data_file = build_fixture(dir, standard_fixture("data_file"));
  ASSERT_FALSE(backing.empty() || snaps.empty() || data_file.empty());
  EXPECT_TRUE(qemu_io(backing, {"read -P 0x81 0 64k", "read -P 0x83 64k 64k",
                                "read -P 0 512k 64k", "read -P 0x84 8M 4k",
                                "read -P 0x82 8196k 60k"}, {"-r"}));
  EXPECT_TRUE(qemu_io(snaps, {"read -P 0x73 0 64k", "read -P 0x75 64k 64k",
                              "read -P 0 5M 64k", "read -P 0 10M 64k"}, {"-r"}));
  EXPECT_TRUE(qemu_io(data_file, {"read -P 0xc1 0 64k", "read -P 0 20M 64k"}, {"-r"}));

  const std::string raw = dir.file("s1.raw");
  ASSERT_TRUE(export_raw(snaps, raw, "s1"));
  auto bytes = read_file_bytes(raw);
  ASSERT_EQ(bytes.size(), 64u << 20);
  EXPECT_EQ(bytes[0], 0x71);
  EXPECT_EQ(bytes[(5 << 20) + 100], 0x72);
  EXPECT_EQ(bytes[(10 << 20)], 0);
}

}  // namespace
}  // namespace qcow2::test
