// A mount left idle gives back what a full read of its tree took: the daemon's resident memory
// after a `grep -r` and a quiet spell comes back near what it was once the check had finished.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/process_probe.h"

namespace qcow2::test {
namespace {

// Reads every file under `dir`, as `grep -r . dir` does; returns the bytes read.
uint64_t read_all(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += read_text(e.path().string()).size();
  return total;
}

// Waits up to `timeout` for the daemon's RSS to fall to `bound`; returns the last value seen.
uint64_t wait_rss_at_most(pid_t pid, uint64_t bound, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  uint64_t rss = rss_kib(pid);
  while (rss > bound && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    rss = rss_kib(pid);
  }
  return rss;
}

class IdleMemoryTest : public FuseTest {};

TEST_F(IdleMemoryTest, IdleMountReturnsWhatAFullReadTook) {
  // ASan's allocator keeps freed memory in its own quarantine and never answers malloc_trim.
  if (kAsan) GTEST_SKIP() << "RSS is not meaningful under AddressSanitizer";
  // 64 GiB with every L2 table allocated: ~100 MB of rendered text, more than the render cache.
  const std::string image = dir_.file("big.qcow2");
  const CommandResult made =
      run({"qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", image, "64G"});
  ASSERT_TRUE(made.ok()) << made.describe();
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m.wait_for_check().rfind("good", 0), 0u) << m.read("status");

  // Settle first: what the check freed is trimmed once the mount is quiet (about a second).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const uint64_t after_check = rss_kib(m.pid());
  ASSERT_GT(after_check, 0u);

  const std::string l2_before = m.read("l2/0");
  const uint64_t bytes = read_all(m.dir());
  const uint64_t after_read = rss_kib(m.pid());
  EXPECT_GT(bytes, 50u << 20);

  // The bound leaves room for the allocator's bookkeeping and thread caches, far below the
  // render cache alone (32 MiB) that a full read fills.
  const uint64_t bound = after_check + 16 * 1024;
  const uint64_t idle = wait_rss_at_most(m.pid(), bound, std::chrono::seconds(20));
  EXPECT_LE(idle, bound) << "RSS " << after_check << " KiB after the check, " << after_read
                         << " KiB right after reading " << bytes << " bytes, " << idle
                         << " KiB after 20 s idle";
  // What was dropped renders again, the same.
  EXPECT_EQ(m.read("l2/0"), l2_before);
}

}  // namespace
}  // namespace qcow2::test
