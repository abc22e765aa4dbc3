// What the mount must never do (write the image, accept a change, hide damage) and how it
// starts and stops: refusals, damaged images, EROFS, signals, daemon mode.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "engine/check/checker.h"
#include "engine/io/image.h"
#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

// What `status` must say: the engine's verdict, whose code is also qcow2-dump's exit status.
std::string expected_status(const std::string& image) {
  auto img = Image::open(image);
  if (!img.ok()) return "open failed: " + img.status().message();
  auto r = check_image(**img);
  if (!r.ok()) return "check failed: " + r.status().message();
  const CommandResult dump = run_dump({"-m", "check", image});
  if (dump.exit_code >= 0 && dump.exit_code <= 6) {
    EXPECT_EQ(dump.exit_code, exit_code(r->status)) << dump.describe();
  }
  return fmt::format("{} {}\n", status_word(r->status), exit_code(r->status));
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST_F(FuseTest, UnalignedL1EntryStillMountsAndTheL2FileSaysWhy) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const uint64_t l1 = peek(image, 40, 8);
  ASSERT_TRUE(poke(image, l1, 8, peek(image, l1, 8) + 0x200));
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), expected_status(image));
  const std::string l2 = m.read("l2/0");
  EXPECT_TRUE(starts_with(l2, "error: ")) << l2;
  EXPECT_NE(l2.find("not aligned"), std::string::npos) << l2;
  EXPECT_NE(row(m.read("l1"), "0").at(4).find("unaligned"), std::string::npos);
  EXPECT_NE(m.read("report.txt").find("l1"), std::string::npos);
}

TEST_F(FuseTest, UnwalkableHeaderStillMountsAndEveryTableSaysWhy) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  ASSERT_TRUE(poke(image, 20, 4, 40));  // cluster_bits 40
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "corrupt 6\n");
  EXPECT_EQ(m.wait_for_check(), expected_status(image));
  EXPECT_EQ(row(m.read("header"), "walkable").at(2), "no");
  EXPECT_EQ(row(m.read("header"), "cluster_bits").at(2), "invalid");
  for (const char* f : {"l1", "l2/ERROR", "refcount/table", "map", "clusters"}) {
    const std::string text = m.read(f);
    EXPECT_TRUE(starts_with(text, "error: ")) << f << ": " << text;
    EXPECT_NE(text.find("cluster_bits"), std::string::npos) << f << ": " << text;
  }
  EXPECT_FALSE(m.read("report.txt").empty());
}

TEST_F(FuseTest, DamagedSnapshotTableGetsAnErrorFile) {
  const std::string image = fixture("snapshots");
  ASSERT_FALSE(image.empty());
  ASSERT_TRUE(poke(image, 60, 4, 3));  // nb_snapshots 3; the table holds 2
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string error = m.read("snapshots/ERROR");
  EXPECT_TRUE(starts_with(error, "error: ")) << error;
  EXPECT_NE(error.find("entry 2"), std::string::npos) << error;
  EXPECT_EQ(row(m.read("snapshots/1/info"), "name").at(1), "s1");
  EXPECT_EQ(row(m.read("snapshots/2/info"), "name").at(1), "s2");
  EXPECT_EQ(m.wait_for_check(), expected_status(image));
}

TEST_F(FuseTest, NonQcow2FilesAreRefusedWithOneLine) {
  const std::string junk = dir_.file("junk.bin");
  std::ofstream(junk) << std::string(4096, 'x');
  const std::string mnt = dir_.file("mnt");
  mkdir(mnt.c_str(), 0755);
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  const Case cases[] = {{{junk, mnt}, 65},
                        {{dir_.file("missing.qcow2"), mnt}, 66},
                        {{junk}, 64},
                        {{junk, dir_.file("no-such-dir")}, 64}};
  for (const Case& c : cases) {
    std::vector<std::string> argv = {qcow2fs_bin()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const CommandResult r = run(argv, "", 20);
    EXPECT_EQ(r.exit_code, c.code) << r.describe();
    EXPECT_TRUE(starts_with(r.err, "qcow2fs: ")) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_FALSE(is_mounted(mnt));
  }
}

TEST_F(FuseTest, ImageBytesAreUnchangedByMountGrepAndUnmount) {
  const std::string image = fixture("snapshots");
  ASSERT_FALSE(image.empty());
  const std::string before = sha256_file(image);
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  const CommandResult g = run({"grep", "-r", ".", m.dir()});
  EXPECT_TRUE(g.ok()) << g.describe();
  EXPECT_GT(lines_of(g.out).size(), 50u);
  EXPECT_EQ(m.unmount(), 0);
  EXPECT_EQ(sha256_file(image), before);
}

TEST_F(FuseTest, ChangesFailWithEROFSOnAReadOnlyMount) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  auto expect_erofs = [](int rc, const char* what) {
    EXPECT_EQ(rc, -1) << what;
    EXPECT_EQ(errno, EROFS) << what;
  };
  expect_erofs(open(m.path("header").c_str(), O_WRONLY), "open header O_WRONLY");
  expect_erofs(open(m.path("ctl/README").c_str(), O_RDWR), "open ctl/README O_RDWR");
  expect_erofs(open(m.path("ctl/cmd").c_str(), O_WRONLY | O_CREAT, 0644), "create ctl/cmd");
  expect_erofs(truncate(m.path("status").c_str(), 0), "truncate status");
  expect_erofs(mkdir(m.path("dir").c_str(), 0755), "mkdir");
  expect_erofs(unlink(m.path("header").c_str()), "unlink");
  expect_erofs(rename(m.path("map").c_str(), m.path("map2").c_str()), "rename");
  expect_erofs(chmod(m.path("header").c_str(), 0644), "chmod");
  expect_erofs(setxattr(m.path("header").c_str(), "user.x", "1", 1, 0), "setxattr");
  const CommandResult echo = run({"sh", "-c", fmt::format("echo check > '{}'", m.path("ctl/README"))});
  EXPECT_NE(echo.exit_code, 0);
  EXPECT_NE(echo.err.find("Read-only file system"), std::string::npos) << echo.err;
}

TEST_F(FuseTest, ReadWriteMountStillRefusesChangesToGeneratedFiles) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const std::string before = sha256_file(image);
  Mount& m = mount(image, "mnt", {"-o", "rw"});
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(open(m.path("header").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(mkdir(m.path("dir").c_str(), 0755), -1);
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(m.unmount(), 0);
  EXPECT_EQ(sha256_file(image), before);
}

TEST_F(FuseTest, SigtermUnmountsCleanly) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FALSE(m.read("header").empty());
  ASSERT_EQ(kill(m.pid(), SIGTERM), 0);
  EXPECT_EQ(m.wait_exit(std::chrono::seconds(10)), 0) << m.log();
  EXPECT_FALSE(is_mounted(m.dir()));
}

// The kernel sends no release for files still open when the daemon stops: the daemon must
// free those handles itself (under LeakSanitizer a leak turns the exit status into 134).
TEST_F(FuseTest, SigtermWithFilesStillOpenExitsCleanly) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  const int header = open(m.path("header").c_str(), O_RDONLY);
  ASSERT_GE(header, 0);
  char buf[64];
  EXPECT_GT(::read(header, buf, sizeof buf), 0);
  const int report = open(m.path("report.txt").c_str(), O_RDONLY);
  EXPECT_GE(report, 0);
  ASSERT_EQ(kill(m.pid(), SIGTERM), 0);
  EXPECT_EQ(m.wait_exit(std::chrono::seconds(10)), 0) << m.log();
  close(header);
  if (report >= 0) close(report);
  EXPECT_FALSE(is_mounted(m.dir()));
}

TEST_F(FuseTest, WithoutForegroundItReturnsOnceMounted) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const std::string mnt = dir_.file("daemon");
  mkdir(mnt.c_str(), 0755);
  // The daemon is not our child: unmount through fusermount3 whatever happens.
  struct Unmounter {
    std::string dir;
    ~Unmounter() {
      if (is_mounted(dir)) run({"fusermount3", "-u", dir}, "", 10);
      if (is_mounted(dir)) run({"fusermount3", "-uz", dir}, "", 10);
    }
  } unmounter{mnt};
  const pid_t pid = spawn({qcow2fs_bin(), image, mnt}, dir_.file("daemon.log"));
  EXPECT_EQ(wait_for(pid, std::chrono::seconds(10)), 0) << read_text(dir_.file("daemon.log"));
  ASSERT_TRUE(is_mounted(mnt));
  std::string status = read_text(mnt + "/status");
  for (int i = 0; i < 500 && starts_with(status, "checking"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    status = read_text(mnt + "/status");
  }
  EXPECT_EQ(status, expected_status(image));
  EXPECT_TRUE(starts_with(read_text(mnt + "/header"), "# field"));
  ASSERT_TRUE(run({"fusermount3", "-u", mnt}, "", 10).ok());
  EXPECT_FALSE(is_mounted(mnt));
}

}  // namespace
}  // namespace qcow2::test
