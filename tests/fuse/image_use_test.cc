// Who else uses the image: a backing file that is not there (-b checks the layer alone).
#include <gtest/gtest.h>

#include <unistd.h>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/tree_files.h"

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
    EXPECT_EQ(m.wait_for_check(), "corrupt 6\n");
    EXPECT_NE(m.read("report.txt").find("backing-file-missing"), std::string::npos);
  }
  for (const char* flag : {"-b", "--base"}) {
    Mount& m = mount(image, std::string("with") + flag, {flag});
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(m.wait_for_check(), "good 0\n") << flag;
    EXPECT_EQ(m.read("report.txt").find("backing-file-missing"), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace qcow2::test
