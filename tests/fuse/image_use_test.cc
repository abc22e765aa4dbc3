// Who else uses the image: a backing file that is not there (-b checks the layer alone), and a
// VM that writes the image (the mount refuses, exit 75, unless -U; then `status` says so).
#include <gtest/gtest.h>

#include <unistd.h>

#include <fmt/format.h>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/tree_files.h"
#include "tests/support/qemu_holder.h"

namespace qcow2::test {
namespace {

class ImageUseTest : public FuseTest {};

TEST_F(ImageUseTest, BaseChecksTheLayerWithoutItsBackingFile) {
  const std::string image = fixture("backing");
  ASSERT_FALSE(image.empty());
  ASSERT_EQ(::unlink(dir_.file(standard_fixture("backing").backing_name()).c_str()), 0);
  {
    Mount& m = mount(image, "without");
    ASSERT_TRUE(m.ok()) << m.error();
    // A missing backing file damages nothing in this layer: a warning that keeps the status.
    EXPECT_EQ(m.wait_for_check(), "good 0\n");
    EXPECT_NE(m.read("report.txt").find("backing-file-missing"), std::string::npos);
  }
  for (const char* flag : {"-b", "--base"}) {
    Mount& m = mount(image, std::string("with") + flag, {flag});
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(m.wait_for_check(), "good 0\n") << flag;
    EXPECT_EQ(m.read("report.txt").find("backing-file-missing"), std::string::npos) << flag;
  }
}

TEST_F(ImageUseTest, AnImageAVmWritesIsRefusedWithOneLine) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  QemuHolder vm(image);
  ASSERT_TRUE(vm.ok()) << "qemu-io did not take the image's locks";
  const std::string mnt = dir_.file("mnt");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  const CommandResult r = run({qcow2fs_bin(), "-f", image, mnt}, "", 30);
  EXPECT_EQ(r.exit_code, 75) << r.describe();
  EXPECT_EQ(r.err, fmt::format("qcow2fs: {}: in use by a running VM (pid {} (qemu-io) holds QEMU's write lock, "
                               "byte 101): its metadata may be torn; use -U (--force-share) to mount it anyway\n",
                               image, vm.pid()));
  EXPECT_FALSE(is_mounted(mnt));
  if (is_mounted(mnt)) run({"fusermount3", "-u", mnt}, "", 10);
}

TEST_F(ImageUseTest, ForceShareMountsAndStatusSaysTheImageIsInUse) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  QemuHolder vm(image);
  ASSERT_TRUE(vm.ok()) << "qemu-io did not take the image's locks";
  for (const char* flag : {"-U", "--force-share"}) {
    Mount& m = mount(image, std::string("mnt") + flag, {flag});
    ASSERT_TRUE(m.ok()) << m.error();
    const auto lines = lines_of(m.wait_for_check());
    ASSERT_EQ(lines.size(), 2u) << m.read("status");
    EXPECT_EQ(lines[0], "good 0");  // the first line keeps its form
    EXPECT_EQ(lines[1], fmt::format("in use by a running VM (pid {} (qemu-io) holds QEMU's write lock, byte 101): "
                                    "its metadata may be torn; mounted with -U (--force-share)",
                                    vm.pid()));
    EXPECT_FALSE(row(m.read("header"), "cluster_bits").empty());
    EXPECT_EQ(m.unmount(), 0) << m.log();
  }
}

TEST_F(ImageUseTest, AReadOnlyQemuUserDoesNotStopTheMount) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  QemuHolder reader(image, /*read_only=*/true);
  ASSERT_TRUE(reader.ok()) << "qemu-io -r did not take the image's locks";
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "good 0\n");  // one line: nobody writes the image
}

}  // namespace
}  // namespace qcow2::test
