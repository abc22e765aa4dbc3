// A GoogleTest fixture for tests that mount: skips (saying why) only where FUSE or QEMU's tools
// are missing, and unmounts every mount in TearDown, which also runs when the test failed.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/fuse/mount_helper.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {

class FuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = fuse_unavailable(); !why.empty()) GTEST_SKIP() << why;
    QCOW2_SKIP_WITHOUT_QEMU();
  }
  void TearDown() override {
    for (auto& m : mounts_) m->unmount();
  }

  // Mounts `image` at a fresh directory `name` inside the test's temporary directory.
  Mount& mount(const std::string& image, const std::string& name = "mnt",
               const std::vector<std::string>& extra = {}) {
    mounts_.push_back(std::make_unique<Mount>(image, dir_.file(name), extra));
    return *mounts_.back();
  }

  std::string fixture(const std::string& name) { return build_fixture(dir_, standard_fixture(name)); }

  TempDir dir_;  // declared first: destroyed after the mounts inside it
  std::vector<std::unique_ptr<Mount>> mounts_;
};

}  // namespace qcow2::test
