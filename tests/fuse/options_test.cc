// qcow2fs's own options as qcow2-dump spells them (-v for the version), and the host
// filesystem line of the mounted `header` file.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/fuse/fuse_test_base.h"

namespace qcow2::test {
namespace {

TEST(fuseOptions, VersionAsVOrCapitalV) {
  for (const char* flag : {"-v", "-V", "--version"}) {
    const CommandResult r = run({qcow2fs_bin(), flag});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, std::string("qcow2fs ") + QCOW2FS_VERSION + "\n") << flag;
  }
  const CommandResult help = run({qcow2fs_bin(), "--help"});
  EXPECT_NE(help.out.find("-V,-v,--version"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("-b,--base"), std::string::npos) << help.out;
}

class HeaderFsTypeTest : public FuseTest {};

// One row "fs_type 0x<statfs magic> <name> - -", the name as stat(1) gives it.
TEST_F(HeaderFsTypeTest, HeaderNamesTheHostFilesystem) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  const CommandResult st = run({"stat", "-f", "-c", "%T %t", dir_.path()});
  ASSERT_TRUE(st.ok()) << st.describe();
  std::istringstream words(st.out);
  std::string name, magic;
  words >> name >> magic;
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  std::istringstream header(m.read("header"));
  bool found = false;
  for (std::string line; std::getline(header, line);) {
    std::istringstream cols(line);
    std::string field, value, decoded;
    cols >> field >> value >> decoded;
    if (field != "fs_type") continue;
    found = true;
    EXPECT_EQ(value, "0x" + magic) << line;
    EXPECT_EQ(decoded, name) << line;
  }
  EXPECT_TRUE(found) << m.read("header");
}

}  // namespace
}  // namespace qcow2::test
