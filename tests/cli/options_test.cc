// qcow2-dump's command line: modes, snapshot selection, output filters, colour, help.
#include <gtest/gtest.h>

#include "tests/cli/dump_lines.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

void expect_usage_error(const CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 64) << r.describe();
  const auto lines = split_lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.describe();
  EXPECT_EQ(lines[0].rfind("qcow2-dump: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(needle), std::string::npos) << lines[0];
  EXPECT_EQ(r.out, "");
}

// Section titles of a dump, in order.
std::vector<std::string> sections(const std::string& out) {
  std::vector<std::string> t;
  for (const std::string& line : split_lines(out)) {
    if (line == "Active Snapshot:" || line.rfind("Snapshot[", 0) == 0 ||
        line.rfind("Refcount Table: [", 0) == 0)
      t.push_back(line.rfind("Refcount Table: [", 0) == 0 ? "Refcount Table" : line);
  }
  return t;
}

TEST(cliOptions, HeaderLayoutNeedsNoImage) {
  CommandResult r = run_dump({"-H"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("magic                       offset:   0 (0x00), size: 4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("l1_size                     offset:  36 (0x24), size: 4\n"), std::string::npos);
  EXPECT_NE(r.out.find("header_length               offset: 100 (0x64), size: 4\n"), std::string::npos);
  EXPECT_NE(r.out.find("compression_type            offset: 104 (0x68), size: 1\n"), std::string::npos);
}

TEST(cliOptions, HelpListsExamplesAndExitCodes) {
  for (const char* flag : {"-h", "--help"}) {
    CommandResult r = run_dump({flag});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("EXAMPLES:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("qcow2-dump -m dump"), std::string::npos);
    EXPECT_NE(r.out.find("EXIT STATUS:"), std::string::npos);
    EXPECT_NE(r.out.find("66  cannot open"), std::string::npos);
    for (const char* opt : {"--mode", "--header", "--snapshot", "--output", "--flags", "--display",
                            "--base", "--version"})
      EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
  }
}

TEST(cliOptions, Version) {
  for (const char* flag : {"-v", "--version"}) {
    CommandResult r = run_dump({flag});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, std::string("qcow2-dump (qcow2fs) ") + QCOW2FS_VERSION + "\n");
  }
}

TEST(cliOptions, UsageErrors) {
  expect_usage_error(run_dump({}), "no IMAGE");
  expect_usage_error(run_dump({"-m", "bogus", "x.qcow2"}), "bogus");
  expect_usage_error(run_dump({"-o", "nothing", "x.qcow2"}), "nothing");
  expect_usage_error(run_dump({"-d", "rainbow", "x.qcow2"}), "rainbow");
  expect_usage_error(run_dump({"--frobnicate", "x.qcow2"}), "frobnicate");
  expect_usage_error(run_dump({"-m", "info", "a.qcow2", "b.qcow2"}), "b.qcow2");
}

// check (the default) and error run the consistency check and exit with the image's status.
TEST(cliOptions, CheckAndErrorModesRunAndExitWithTheImageStatus) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("any.qcow2");
  ASSERT_TRUE(make_image(image, "16M"));
  ASSERT_TRUE(qemu_io(image, {"write -P 0x11 0 64k"}));
  auto run_modes = [&](const std::string& word, int code) {
    std::string check_out;
    for (std::vector<std::string> args : {std::vector<std::string>{"-m", "check"},
                                          std::vector<std::string>{"-m", "error"},
                                          std::vector<std::string>{}}) {
      SCOPED_TRACE(args.empty() ? "default" : args[1]);
      args.push_back(image);
      CommandResult r = run_dump(args);
      EXPECT_EQ(r.exit_code, code) << r.describe();
      EXPECT_EQ(r.err, "") << "an image status is not a tool failure";
      const std::string banner = "\n####  status: " + word + " (exit " + std::to_string(code) + ")  ####\n";
      EXPECT_NE(r.out.find(banner), std::string::npos) << r.out;
      if (args.size() == 3 && args[1] == "check") {
        check_out = r.out;
      } else if (args.size() == 1) {
        EXPECT_EQ(r.out, check_out) << "the default mode is check";
      }
    }
  };
  run_modes("good", 0);
  ASSERT_TRUE(poke(image, 72, 8, peek(image, 72, 8) | 0x2));  // the corrupt bit
  run_modes("corrupt-flag", 3);
}

class cliWithSnapshots : public ::testing::Test {
 protected:
  void SetUp() override {
    QCOW2_SKIP_WITHOUT_QEMU();
    image_ = build_fixture(dir_, standard_fixture("snapshots"));  // s1 (id 1), s2 (id 2)
    ASSERT_FALSE(image_.empty());
  }
  CommandResult dump(std::vector<std::string> args) {
    args.insert(args.begin(), {"-m", "dump"});
    args.push_back(image_);
    return run_dump(args, dir_.path());
  }
  TempDir dir_;
  std::string image_;
};

TEST_F(cliWithSnapshots, DefaultSelectsEverything) {
  CommandResult r = dump({});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(sections(r.out), (std::vector<std::string>{"Active Snapshot:", "Snapshot[0] id 1 name s1:",
                                                       "Snapshot[1] id 2 name s2:", "Refcount Table"}));
}

TEST_F(cliWithSnapshots, ActiveInactiveAll) {
  EXPECT_EQ(sections(dump({"-s", "active"}).out),
            (std::vector<std::string>{"Active Snapshot:", "Refcount Table"}));
  EXPECT_EQ(sections(dump({"-s", "inactive"}).out),
            (std::vector<std::string>{"Snapshot[0] id 1 name s1:", "Snapshot[1] id 2 name s2:",
                                      "Refcount Table"}));
  EXPECT_EQ(sections(dump({"-s", "all", "-o", "snapshot"}).out),
            (std::vector<std::string>{"Active Snapshot:", "Snapshot[0] id 1 name s1:",
                                      "Snapshot[1] id 2 name s2:"}));
  EXPECT_EQ(sections(dump({"-o", "refcount"}).out), (std::vector<std::string>{"Refcount Table"}));
}

TEST_F(cliWithSnapshots, SelectByIdOrName) {
  EXPECT_EQ(sections(dump({"-s", "2", "-o", "snapshot"}).out),
            (std::vector<std::string>{"Snapshot[1] id 2 name s2:"}));
  EXPECT_EQ(sections(dump({"-s", "s1", "-o", "snapshot"}).out),
            (std::vector<std::string>{"Snapshot[0] id 1 name s1:"}));
}

TEST_F(cliWithSnapshots, UnknownSnapshotIsAUsageError) {
  expect_usage_error(dump({"-s", "nosuch"}), "no snapshot with id or name 'nosuch'");
  expect_usage_error(dump({"-s", "3"}), "'3'");
  // atoi-style matching would take "1abc" for id 1.
  expect_usage_error(dump({"-s", "1abc"}), "'1abc'");
  CommandResult info = run_dump({"-m", "info", "-s", "nosuch", image_}, dir_.path());
  expect_usage_error(info, "nosuch");
}

// Ids are matched before names: a snapshot named "1" does not shadow the one with id 1.
TEST(cliSnapshotSelection, IdBeforeName) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("ids.qcow2");
  ASSERT_TRUE(make_image(image, "16M"));
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "2", image}).ok());  // id 1, name "2"
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "1", image}).ok());  // id 2, name "1"
  CommandResult r = run_dump({"-m", "dump", "-o", "snapshot", "-s", "1", image});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(sections(r.out), (std::vector<std::string>{"Snapshot[0] id 1 name 2:"}));
  r = run_dump({"-m", "dump", "-o", "snapshot", "-s", "2", image});
  EXPECT_EQ(sections(r.out), (std::vector<std::string>{"Snapshot[1] id 2 name 1:"}));
}

TEST_F(cliWithSnapshots, SnapshotSectionMatchesItsL1Table) {
  CommandResult r = dump({"-s", "s1", "-o", "snapshot"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::string section = dump_section(r.out, "Snapshot[0] id 1 name s1:");
  // s1 was taken before any write to 10M: its tables must not map it.
  for (const auto& l : parse_l2_lines(section)) EXPECT_NE(l.vdisk, 10u << 20) << l.text;
  EXPECT_FALSE(parse_l2_lines(section).empty());
}

TEST_F(cliWithSnapshots, Colour) {
  CommandResult plain = run_dump({"-m", "info", image_}, dir_.path());
  EXPECT_EQ(plain.out.find("\033["), std::string::npos) << "stdout is a pipe: no colour";
  CommandResult forced = run_dump({"-m", "info", "-d", "color", image_}, dir_.path());
  EXPECT_NE(forced.out.find("\033["), std::string::npos);
  CommandResult off = run_dump({"-m", "info", "-d", "off", image_}, dir_.path());
  EXPECT_EQ(off.out, plain.out);
  CommandResult none = run_dump({"-m", "info", "-d", "none", image_}, dir_.path());
  EXPECT_EQ(none.out, plain.out) << "the 2017 keyword still works";
  CommandResult dumped = dump({"-d", "color"});
  EXPECT_NE(dumped.out.find("\033["), std::string::npos) << "-d color forces colour in dump mode";
}

TEST_F(cliWithSnapshots, FlagsOnlyDecorate) {
  CommandResult plain = dump({});
  CommandResult flags = dump({"-f"});
  ASSERT_EQ(plain.exit_code, 0);
  ASSERT_EQ(flags.exit_code, 0);
  const auto a = split_lines(plain.out);
  const auto b = split_lines(flags.out);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& l : parse_l2_lines(flags.out)) EXPECT_TRUE(l.has_raw) << l.text;
  for (const auto& l : parse_l2_lines(plain.out)) EXPECT_FALSE(l.has_raw) << l.text;
}

TEST_F(cliWithSnapshots, BaseIsAccepted) {
  CommandResult r = run_dump({"-m", "info", "-b", image_}, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

}  // namespace
}  // namespace qcow2::test
