// The lock probe against real QEMU locks: qemu-io holding an image read-write, read-only, and
// no one at all.
#include "engine/io/qemu_locks.h"

#include <gtest/gtest.h>

#include "tests/support/fixtures.h"
#include "tests/support/qemu_holder.h"

namespace qcow2::test {
namespace {

QemuLockState probe(const std::string& path) {
  auto f = ImageFile::open_read_only(path);
  EXPECT_TRUE(f.ok()) << f.status().message();
  if (!f.ok()) return {};
  auto s = probe_qemu_locks(*f);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : QemuLockState{};
}

TEST(QemuLocks, NobodyHoldsAFreshImage) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  ASSERT_TRUE(make_image(dir.file("a.qcow2"), "64M"));
  const QemuLockState s = probe(dir.file("a.qcow2"));
  EXPECT_FALSE(s.writer);
  EXPECT_FALSE(s.write_unshared);
  EXPECT_FALSE(s.in_use());
}

TEST(QemuLocks, AWriterIsSeenAndNamed) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  ASSERT_TRUE(make_image(path, "64M"));
  {
    QemuHolder vm(path);
    ASSERT_TRUE(vm.ok());
    const QemuLockState s = probe(path);
    EXPECT_TRUE(s.writer);
    EXPECT_TRUE(s.write_unshared);
    EXPECT_TRUE(s.in_use());
    EXPECT_NE(s.holders.find("pid " + std::to_string(vm.pid())), std::string::npos) << s.holders;
    EXPECT_NE(s.describe().find("in use by a running VM"), std::string::npos) << s.describe();
  }
  EXPECT_FALSE(probe(path).in_use()) << "the locks must go with the process";
}

TEST(QemuLocks, AReadOnlyUserIsNotAWriterButRefusesSharedWrites) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  ASSERT_TRUE(make_image(path, "64M"));
  QemuHolder reader(path, /*read_only=*/true);
  ASSERT_TRUE(reader.ok());
  const QemuLockState s = probe(path);
  EXPECT_FALSE(s.writer);
  EXPECT_TRUE(s.write_unshared);
}

}  // namespace
}  // namespace qcow2::test
