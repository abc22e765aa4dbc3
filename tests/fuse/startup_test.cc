// The mount answers at once: `header` is readable as soon as the mount appears, without
// waiting for the background check, and files that need the check still get its result.
#include <gtest/gtest.h>

#include <string>

#include "tests/fuse/fuse_test_base.h"

namespace qcow2::test {
namespace {

class StartupTest : public FuseTest {
 protected:
  // An image whose check has real work (every L2 table of 64 GiB allocated).
  std::string big_image() {
    const std::string image = dir_.file("big.qcow2");
    const CommandResult made =
        run({"qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", image, "64G"});
    EXPECT_TRUE(made.ok()) << made.describe();
    return image;
  }
};

TEST_F(StartupTest, HeaderIsReadableAsSoonAsTheMountAppears) {
  const std::string image = big_image();
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  // The first request of all: nothing has been read or listed before it.
  const std::string early = m.read("header");
  const std::string status = m.read("status");
  ASSERT_FALSE(early.empty());
  EXPECT_NE(early.find("cluster_bits"), std::string::npos) << early;
  // Whether the check was still running here depends on the machine's speed, so it is only
  // reported; what must hold is that the early text is the final one.
  ASSERT_EQ(m.wait_for_check().rfind("good", 0), 0u) << m.read("status");
  EXPECT_EQ(m.read("header"), early) << "status when header was first read: " << status;
}

TEST_F(StartupTest, ReportRightAfterTheMountWaitsForTheCheck) {
  const std::string image = big_image();
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  // The check begins a little after the mount unless a file waits for it: this one does, and
  // gets the finished report rather than a partial one.
  const std::string report = m.read("report.txt");
  EXPECT_NE(m.read("status").rfind("checking", 0), 0u);
  EXPECT_EQ(report, m.read("report.txt"));
  EXPECT_NE(report.find("No errors"), std::string::npos) << report;
}

}  // namespace
}  // namespace qcow2::test
