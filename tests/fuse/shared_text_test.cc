// Big files are rendered once and shared: forty handles on the 25 MB text of one L2 table of a
// 2 MiB-cluster image cost the daemon one copy, not forty, and the text open handles pin has a
// budget (-o max_open_text) past which open fails with ENOMEM while the mount goes on.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/process_probe.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

using std::chrono::seconds;

constexpr int kHandles = 40;

class SharedTextTest : public FuseTest {
 protected:
  // 512 GiB in 2 MiB clusters, every cluster allocated: one L2 table of 262144 entries, whose
  // text (one line per entry) is about 25 MB, three times the render cache's largest item.
  // With `two`, 1 TiB: l2/1 is a second file of that size.
  std::string big_image(bool two) {
    const std::string image = dir_.file("big.qcow2");
    EXPECT_TRUE(make_image(image, two ? "1T" : "512G", {"cluster_size=2M", "preallocation=metadata"}));
    return image;
  }
};

// Opens `path` `n` times and reads its first bytes through each handle; returns the fds.
std::vector<int> open_and_read(const std::string& path, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
    if (fd < 0) break;
    char buf[64];
    EXPECT_GT(::read(fd, buf, sizeof buf), 0);
    fds.push_back(fd);
  }
  return fds;
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

TEST_F(SharedTextTest, FortyHandlesOnOneBigFileCostOneCopy) {
  if (kAsan) GTEST_SKIP() << "RSS is not meaningful under AddressSanitizer";
  Mount& m = mount(big_image(false));
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m.wait_for_check(), "good 0\n");
  struct stat st {};
  ASSERT_EQ(::stat(m.path("l2/0").c_str(), &st), 0);  // renders it once to measure it
  const uint64_t text_kib = static_cast<uint64_t>(st.st_size) / 1024;
  ASSERT_GT(text_kib, 20u * 1024) << "the L2 text should be far above the cache's 8 MiB item cap";

  std::vector<int> first = open_and_read(m.path("l2/0"), 1);
  const uint64_t one = rss_kib(m.pid());
  std::vector<int> more = open_and_read(m.path("l2/0"), kHandles - 1);
  const uint64_t forty = rss_kib(m.pid());
  std::cout << "[ measured ] text " << text_kib << " KiB; daemon RSS " << one << " KiB with 1 handle, " << forty
            << " KiB with " << kHandles << "\n";
  EXPECT_EQ(more.size(), size_t{kHandles - 1});
  // Not one more copy for the other 39 handles (each would be text_kib).
  EXPECT_LT(forty, one + text_kib / 2) << "RSS " << one << " KiB with one handle, " << forty << " with " << kHandles;
  // What every handle reads is the whole, same text.
  const std::string whole = m.read("l2/0");
  EXPECT_EQ(whole.size(), static_cast<size_t>(st.st_size));
  close_all(first);
  close_all(more);
  EXPECT_EQ(m.unmount(), 0) << m.log();
}

TEST_F(SharedTextTest, OpensPastTheTextBudgetFailWithENOMEM) {
  Mount& m = mount(big_image(true), "mnt", {"-o", "max_open_text=40M"});
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m.wait_for_check(), "good 0\n");
  // Forty handles on one 25 MB file pin it once: within 40 MiB.
  std::vector<int> active = open_and_read(m.path("l2/0"), kHandles);
  ASSERT_EQ(active.size(), size_t{kHandles});
  // A second file of that size would take the pinned text to 50 MB.
  const int refused = ::open(m.path("l2/1").c_str(), O_RDONLY);
  const int refused_errno = errno;
  EXPECT_EQ(refused, -1);
  EXPECT_EQ(refused_errno, ENOMEM);
  if (refused >= 0) ::close(refused);
  // The mount is still there, and small files still fit beside the big one.
  EXPECT_FALSE(row(m.read("header"), "cluster_bits").empty());
  EXPECT_EQ(m.read("status"), "good 0\n");
  // Once the handles are closed (the kernel releases them a little after close) it opens.
  close_all(active);
  int fd = -1;
  EXPECT_TRUE(wait_until(
      [&] {
        fd = ::open(m.path("l2/1").c_str(), O_RDONLY);
        return fd >= 0;
      },
      std::chrono::seconds(30)))
      << strerror(errno);
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(m.unmount(), 0) << m.log();
}

}  // namespace
}  // namespace qcow2::test
