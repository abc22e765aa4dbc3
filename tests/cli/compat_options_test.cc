// The well-known tool's options that qcow2-dump accepts for its users' scripts: -c, -l, -R
// check|off, -p, -N, -K, -b, -v, plus -q and NO_COLOR; and the fs_type line of the header block.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/cli/dump_lines.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A 16 MiB image with one data cluster (at 0x50000, refcount block at 0x20000).
std::string small_image(const TempDir& dir, const std::string& name) {
  const std::string image = dir.file(name);
  if (!make_image(image, "16M") || !qemu_io(image, {"write -P 0x11 0 64k"})) return "";
  return image;
}

// `command` under script(1): its stdout and stderr are a terminal; what they print is what
// script prints.
CommandResult on_terminal(const std::string& command) {
  return run({"script", "-q", "-e", "-c", command, "/dev/null"});
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

TEST(cliCompat, CompressIsAcceptedAndChangesNothing) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("c.qcow2");
  ASSERT_TRUE(make_image(image, "16M"));
  ASSERT_TRUE(qemu_io(image, {"write -c -P 0x22 0 64k"}));
  const CommandResult plain = run_dump({"-m", "error", image});
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  for (const char* flag : {"-c", "--compress"}) {
    const CommandResult r = run_dump({flag, "-m", "error", image});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, plain.out) << flag;
  }
  const CommandResult help = run_dump({"--help"});
  EXPECT_NE(help.out.find("--compress"), std::string::npos) << help.out;
}

TEST(cliCompat, LockAndRepairCheckOrOffReadOnly) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = small_image(dir, "l.qcow2");
  ASSERT_FALSE(image.empty());
  const std::string before = sha256_file(image);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-l"}, {"--lock"}, {"-R", "check"}, {"-R", "off"}, {"-R", "none"}, {"-b"}}) {
    std::vector<std::string> argv = args;
    argv.push_back(image);
    const CommandResult r = run_dump(argv);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("Summary:"), std::string::npos) << r.describe();
  }
  EXPECT_EQ(sha256_file(image), before) << "a read-only option wrote the image";
}

// -p: two data clusters of a preallocated image swapped (entries 1 and 2 of its one L2 table)
// are each listed; everything else is in place.
TEST(cliCompat, PreallocListsClustersOutOfPlace) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("p.qcow2");
  ASSERT_TRUE(make_image(image, "16M", {"preallocation=metadata"}));
  for (const char* flag : {"-p", "--prealloc"}) {
    const CommandResult r = run_dump({flag, image});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("Prealloc: not in place: 0, data clusters: 256\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("NOT Prealloc"), std::string::npos) << r.out;
  }
  const uint64_t l2 = 0x40000;  // qemu-img's layout: header, reftable, refblock, L1, L2, data
  ASSERT_EQ(peek(image, l2 + 8, 8), 0x8000000000060000ULL);
  ASSERT_EQ(peek(image, l2 + 16, 8), 0x8000000000070000ULL);
  ASSERT_TRUE(poke(image, l2 + 8, 8, 0x8000000000070000ULL));
  ASSERT_TRUE(poke(image, l2 + 16, 8, 0x8000000000060000ULL));
  for (const char* mode : {"check", "error"}) {
    const CommandResult r = run_dump({"-p", "-m", mode, image});
    EXPECT_EQ(r.exit_code, 0) << "swapped clusters are still consistent: " << r.describe();
    EXPECT_NE(r.out.find("NOT Prealloc[0] l2_offset: 0x40000, index: 1, data offset: 0x70000\n"
                         "NOT Prealloc[0] l2_offset: 0x40000, index: 2, data offset: 0x60000\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(count_of(r.out, "NOT Prealloc"), 2u) << r.out;
    EXPECT_NE(r.out.find("Prealloc: not in place: 2, data clusters: 256\n"), std::string::npos) << r.out;
  }
  EXPECT_EQ(run_dump({image}).out.find("Prealloc"), std::string::npos) << "only with -p";
}

TEST(cliCompat, PreallocSaysWhyNotOnAnImageWithSnapshots) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = small_image(dir, "s.qcow2");
  ASSERT_FALSE(image.empty());
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "s1", image}).ok());
  const CommandResult r = run_dump({"-p", image});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("Prealloc Layout:\nnot checked: the image has snapshots"), std::string::npos) << r.out;
}

// -N drops the image's cached pages before reading: what is printed is the same, and the
// file's pages are no longer all resident (fincore) after a run that reads only its metadata.
TEST(cliCompat, NocacheDropsThePageCacheAndChangesNoOutput) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("n.qcow2");
  ASSERT_TRUE(make_image(image, "16M"));
  ASSERT_TRUE(qemu_io(image, {"write -P 0x33 0 8M"}));
  for (const char* mode : {"info", "check", "dump"}) {
    const CommandResult plain = run_dump({"-m", mode, image});
    for (const char* flag : {"-N", "--nocache"}) {
      const CommandResult r = run_dump({flag, "-m", mode, image});
      EXPECT_EQ(r.exit_code, plain.exit_code) << r.describe();
      EXPECT_EQ(r.out, plain.out) << flag << " -m " << mode;
    }
  }
  auto resident = [&]() -> long long {
    const CommandResult r = run({"fincore", "--bytes", "--noheadings", "--output", "RES", image});
    return r.ok() ? std::stoll(r.out) : -1;
  };
  ASSERT_TRUE(run({"cat", image}).ok());  // every page cached
  const long long before = resident();
  if (before < (8LL << 20)) GTEST_SKIP() << "fincore cannot see this file's cache (" << before << " bytes)";
  ASSERT_EQ(run_dump({"-N", "-m", "info", image}).exit_code, 0);
  EXPECT_LT(resident(), before / 2) << "the data pages are still cached after -N (read-ahead brings some back)";
}

// -K: the result's line in the kernel log. Through QCOW2_DUMP_KMSG (a file here), then the
// real /dev/kmsg read back with dmesg where this machine lets us, then a log that cannot be
// opened: one warning, the exit status unchanged.
TEST(cliCompat, DmesgWritesTheResultLine) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = small_image(dir, "k.qcow2");
  ASSERT_FALSE(image.empty());
  ASSERT_TRUE(poke(image, 0x2000c, 2, 1));  // cluster 6, past the end of the file, counted: a leak
  const std::string log = dir.file("kmsg");
  ASSERT_TRUE(run({"touch", log}).ok());
  for (const char* flag : {"-K", "--dmesg"}) {
    const CommandResult r = run({"env", "QCOW2_DUMP_KMSG=" + log, dump_bin(), flag, image});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_EQ(r.err, "");
  }
  EXPECT_EQ(read_text(log), "qcow2-dump: " + image + ": leaks (exit 1): corruptions: 0, leaks: 1, findings: 1\n" +
                                "qcow2-dump: " + image + ": leaks (exit 1): corruptions: 0, leaks: 1, findings: 1\n");
  EXPECT_EQ(run({"env", "QCOW2_DUMP_KMSG=" + log, dump_bin(), "-m", "info", image}).exit_code, 0);
  EXPECT_EQ(count_of(read_text(log), "\n"), 2u) << "-K without it wrote";

  const std::string missing = dir.file("no/such/kmsg");
  const CommandResult w = run({"env", "QCOW2_DUMP_KMSG=" + missing, dump_bin(), "-K", image});
  EXPECT_EQ(w.exit_code, 1) << w.describe();
  EXPECT_EQ(w.err, "qcow2-dump: warning: cannot write the result to " + missing + ": No such file or directory\n");
  EXPECT_NE(w.out.find("Summary:"), std::string::npos);

  if (::access("/dev/kmsg", W_OK) == 0 && run({"dmesg"}).ok()) {
    ASSERT_EQ(run_dump({"-K", image}).exit_code, 1);
    EXPECT_NE(run({"dmesg"}).out.find("qcow2-dump: " + image + ": leaks (exit 1)"), std::string::npos)
        << "the line is not in the kernel log";
  }
}

TEST(cliCompat, NoColorTurnsColourOffUnlessForced) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = small_image(dir, "color.qcow2");
  ASSERT_FALSE(image.empty());
  const std::string dump = quoted(dump_bin()) + " -m info " + quoted(image);
  const CommandResult coloured = on_terminal(dump);
  ASSERT_TRUE(coloured.ok()) << coloured.describe();
  EXPECT_NE(coloured.out.find("\033["), std::string::npos) << "no colour on a terminal: " << coloured.out;
  const CommandResult plain = on_terminal("NO_COLOR=1 " + dump);
  ASSERT_TRUE(plain.ok()) << plain.describe();
  EXPECT_EQ(plain.out.find('\033'), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("cluster_size:"), std::string::npos) << plain.out;
  EXPECT_NE(on_terminal("NO_COLOR=1 " + dump + " -d color").out.find("\033["), std::string::npos)
      << "-d color must win over NO_COLOR";
  EXPECT_NE(on_terminal("NO_COLOR= " + dump).out.find("\033["), std::string::npos) << "an empty NO_COLOR counts as unset";
}

// The host filesystem in the header block (info and check), named as stat(1) names it.
TEST(cliCompat, FsTypeIsTheHostFilesystem) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = small_image(dir, "fs.qcow2");
  ASSERT_FALSE(image.empty());
  const CommandResult st = run({"stat", "-f", "-c", "%T", dir.path()});
  ASSERT_TRUE(st.ok()) << st.describe();
  const std::string expected = st.out.substr(0, st.out.find('\n'));
  ASSERT_FALSE(expected.empty());
  for (const char* mode : {"info", "check", "error"}) {
    const CommandResult r = run_dump({"-m", mode, image});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const std::string want = "fs_type:                    " + expected + "\n";
    EXPECT_NE(r.out.find("\n" + want), std::string::npos) << mode << ":\n" << r.out;
    // Where the well-known tool has it: after the backing file, before the sizes.
    EXPECT_LT(r.out.find("backing_file_size:"), r.out.find("fs_type:")) << r.out;
    EXPECT_LT(r.out.find("fs_type:"), r.out.find("virtual_size:")) << r.out;
  }
}

// A check on a terminal shows its progress on stderr and erases it; on a pipe, or with -q,
// stderr stays empty.
TEST(cliCompat, ProgressOnATerminalOnlyAndErased) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = small_image(dir, "progress.qcow2");
  ASSERT_FALSE(image.empty());
  // stdout to /dev/null: what script prints is stderr alone.
  const std::string dump = quoted(dump_bin()) + " " + quoted(image) + " >/dev/null";
  const CommandResult tty = on_terminal(dump);
  ASSERT_TRUE(tty.ok()) << tty.describe();
  EXPECT_EQ(tty.out.rfind("\rqcow2-dump: checking 0%", 0), 0u) << tty.out;
  EXPECT_NE(tty.out.find("checking 100%"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(" MiB/s"), std::string::npos) << tty.out;
  // Erased: the last thing written is the line's width of spaces between two \r.
  const size_t last_cr = tty.out.rfind('\r', tty.out.size() - 2);
  ASSERT_NE(last_cr, std::string::npos) << tty.out;
  ASSERT_EQ(tty.out.back(), '\r') << tty.out;
  const std::string tail = tty.out.substr(last_cr + 1, tty.out.size() - last_cr - 2);
  EXPECT_FALSE(tail.empty());
  EXPECT_EQ(tail.find_first_not_of(' '), std::string::npos) << "not erased: " << tty.out;
  EXPECT_EQ(tty.out.find('\033'), std::string::npos) << "the line needs no escape sequences";

  for (const char* flag : {"-q", "--quiet"}) {
    const CommandResult quiet = on_terminal(quoted(dump_bin()) + " " + flag + " " + quoted(image) + " >/dev/null");
    ASSERT_TRUE(quiet.ok()) << quiet.describe();
    EXPECT_EQ(quiet.out, "") << flag;
  }
  const CommandResult pipe = run_dump({image});
  ASSERT_TRUE(pipe.ok()) << pipe.describe();
  EXPECT_EQ(pipe.err, "");
  EXPECT_EQ(pipe.out.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace qcow2::test
