// A running VM holds the image for writing: every mode says so first and exits 75 (what it
// would read may be torn), unless -U asks to go on; a read-only QEMU user changes nothing.
#include <gtest/gtest.h>

#include "tests/support/fixtures.h"
#include "tests/support/qemu_holder.h"

namespace qcow2::test {
namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < s.size()) {
    const size_t nl = s.find('\n', at);
    out.push_back(s.substr(at, nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

const std::vector<std::vector<std::string>> kModes = {
    {}, {"-m", "error"}, {"--output=json"}, {"-m", "info"}, {"-m", "dump"}};

std::vector<std::string> with(std::vector<std::string> args, const std::string& image) {
  args.push_back(image);
  return args;
}

TEST(cliInUse, EveryModeRefusesAnImageAVmWritesWithExit75) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  ASSERT_TRUE(make_image(path, "64M"));
  ASSERT_TRUE(qemu_io(path, {"write -P 0x11 0 64k"}));
  QemuHolder vm(path);
  ASSERT_TRUE(vm.ok());
  const std::string hash = sha256_file(path);
  for (const auto& mode : kModes) {
    const CommandResult r = run_dump(with(mode, path));
    EXPECT_EQ(r.exit_code, 75) << r.describe();
    EXPECT_TRUE(r.out.empty()) << "nothing may be shown as if it were whole: " << r.out;
    const auto err = lines_of(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_NE(err[0].find("in use by a running VM"), std::string::npos) << err[0];
    EXPECT_NE(err[0].find("pid " + std::to_string(vm.pid())), std::string::npos) << err[0];
    EXPECT_NE(err[0].find("-U"), std::string::npos) << "it says how to go on: " << err[0];
  }
  EXPECT_EQ(sha256_file(path), hash);
}

TEST(cliInUse, ForceShareSaysSoFirstThenRunsTheMode) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  ASSERT_TRUE(make_image(path, "64M"));
  ASSERT_TRUE(qemu_io(path, {"write -P 0x11 0 64k"}));
  QemuHolder vm(path);
  ASSERT_TRUE(vm.ok());
  for (const auto& mode : kModes) {
    std::vector<std::string> args = {"-U"};
    args.insert(args.end(), mode.begin(), mode.end());
    const CommandResult r = run_dump(with(args, path));
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    const auto err = lines_of(r.err);
    ASSERT_FALSE(err.empty()) << r.describe();
    EXPECT_EQ(err[0].rfind("qcow2-dump: warning: ", 0), 0u) << err[0];
    EXPECT_NE(err[0].find("what follows may be torn"), std::string::npos) << err[0];
    EXPECT_FALSE(r.out.empty());
  }
  // --force-share is the long spelling, as in qemu-img.
  EXPECT_EQ(run_dump({"--force-share", path}).exit_code, 0);
}

TEST(cliInUse, AReadOnlyQemuUserIsNoWriter) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  ASSERT_TRUE(make_image(path, "64M"));
  QemuHolder reader(path, /*read_only=*/true);
  ASSERT_TRUE(reader.ok());
  const CommandResult r = run_dump({path});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(r.err.empty()) << r.err;
}

}  // namespace
}  // namespace qcow2::test
