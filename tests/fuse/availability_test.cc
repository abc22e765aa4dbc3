// The mount stays available: a check that breaks down is a failed outcome rather than a dead
// mount, and SIGTERM stops a running check instead of waiting for it.
//
// The check is held halfway by the test hook -o test_hold_check=GATE until the test creates
// GATE, so "while the check runs" is a state the test controls, not a race against the clock.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/process_probe.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

using std::chrono::seconds;

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

class AvailabilityTest : public FuseTest {
 protected:
  // Mounts `image` with the check held halfway until the file gate_ exists.
  Mount& mount_held(const std::string& image) {
    gate_ = dir_.file("gate");
    return mount(image, "mnt", {"-o", "test_hold_check=" + gate_});
  }

  std::string gate_;
};

TEST_F(AvailabilityTest, ACheckThatThrowsIsAFailedCheckAndTheMountStays) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image, "mnt", {"-o", "test_fail_check"});
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "failed 70\n");
  const std::string txt = m.read("report.txt");
  EXPECT_TRUE(starts_with(txt, "error: the check failed: internal error: ")) << txt;
  EXPECT_NE(txt.find("thrown on purpose"), std::string::npos) << txt;
  EXPECT_NE(m.read("report.json").find("\"error\": \"the check failed: internal error"), std::string::npos)
      << m.read("report.json");
  EXPECT_TRUE(starts_with(m.read("clusters"), "error: the check failed")) << m.read("clusters");
  // Everything that does not need the check is still there.
  EXPECT_FALSE(row(m.read("header"), "cluster_bits").empty());
  EXPECT_FALSE(m.read("l2/0").empty());
  EXPECT_EQ(m.unmount(), 0) << m.log();
}

TEST_F(AvailabilityTest, SigtermCancelsARunningCheck) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  Mount& m = mount_held(image);  // the gate never opens: the check would run forever
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_TRUE(wait_until([&] { return m.read("status") == "checking 50%\n"; }, seconds(30))) << m.read("status");
  ASSERT_EQ(kill(m.pid(), SIGTERM), 0);
  EXPECT_EQ(m.wait_exit(seconds(30)), 0) << m.log();
  EXPECT_TRUE(wait_until([&] { return !is_mounted(m.dir()); }, seconds(30)));
  EXPECT_EQ(m.log(), "");  // no sanitizer report, no error
}

}  // namespace
}  // namespace qcow2::test
