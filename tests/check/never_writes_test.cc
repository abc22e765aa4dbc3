// The checker is an inspection tool: on every damaged image it must leave the file exactly as
// it found it (bytes, size and modification time) — QEMU's own check "repairs" on open in
// some modes and so destroys the evidence. The suite also runs under ASan/UBSan in CI, which
// makes it the place where every damage path is exercised with sanitizers.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/check/all_recipes.h"

namespace qcow2::test {
namespace {

struct FileState {
  std::string sha;
  off_t size = -1;
  struct timespec mtime {};
};

FileState state_of(const std::string& path) {
  FileState s;
  s.sha = sha256_file(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    s.size = st.st_size;
    s.mtime = st.st_mtim;
  }
  return s;
}

class NeverWrites : public ::testing::TestWithParam<size_t> {};

TEST_P(NeverWrites, CheckingADamagedImageLeavesItUntouched) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const auto& [name, recipe] = damage::all_recipes()[GetParam()];
  TempDir dir;
  const damage::Damaged d = recipe(dir);
  ASSERT_FALSE(d.path.empty()) << name;
  const FileState before = state_of(d.path);
  ASSERT_FALSE(before.sha.empty());

  // Twice, with referrer naming and stream verification both ways: every pass reads only.
  for (bool verify : {true, false}) {
    CheckOptions opts;
    opts.verify_compressed = verify;
    auto img = Image::open(d.path);
    ASSERT_TRUE(img.ok()) << img.status().message();
    auto r = check_image(**img, opts);
    ASSERT_TRUE(r.ok()) << r.status().message();
    // Something worth saying was found in every recipe (the info-only ones say it as info;
    // a garbage compressed stream is only visible when streams are verified).
    if (verify) {
      EXPECT_FALSE(r->findings.empty()) << name;
    }
  }

  const FileState after = state_of(d.path);
  EXPECT_EQ(after.sha, before.sha) << name << ": the image's bytes changed";
  EXPECT_EQ(after.size, before.size) << name;
  EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec) << name;
  EXPECT_EQ(after.mtime.tv_nsec, before.mtime.tv_nsec) << name;
}

INSTANTIATE_TEST_SUITE_P(AllDamage, NeverWrites, ::testing::Range<size_t>(0, damage::all_recipes().size()),
                         [](const auto& info) { return damage::all_recipes()[info.param].first; });

}  // namespace
}  // namespace qcow2::test
