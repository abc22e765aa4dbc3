// BatchReader gives exactly what pread gives, batch or not, and names the range of a read
// past the end of the file; PrefetchReader hands out the units in order through its thread.
#include "engine/io/batch_read.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <vector>

#include "engine/io/prefetch_reader.h"
#include "tests/support/fixtures.h"

namespace qcow2 {
namespace {

class BatchReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(7);
    bytes_.resize(1 << 20);
    for (uint8_t& b : bytes_) b = static_cast<uint8_t>(rng());
    path_ = dir_.file("data");
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  }

  test::TempDir dir_;
  std::string path_;
  std::vector<uint8_t> bytes_;
};

TEST_F(BatchReadTest, ReadsWhatIsInTheFileWithAndWithoutBatches) {
  auto file = ImageFile::open_read_only(path_);
  ASSERT_TRUE(file.ok()) << file.status().message();
  for (size_t max_batch : {1, 2, 7, 64}) {
    BatchReader reader(*file, max_batch);
    std::vector<std::vector<uint8_t>> bufs(150, std::vector<uint8_t>(4096));
    std::vector<ReadRequest> reqs;
    std::mt19937 rng(static_cast<unsigned>(max_batch));
    for (auto& b : bufs) reqs.push_back({rng() % (bytes_.size() - b.size()), b});
    ASSERT_TRUE(reader.read(reqs).ok()) << "batch " << max_batch;
    for (const ReadRequest& r : reqs)
      ASSERT_TRUE(std::equal(r.out.begin(), r.out.end(), bytes_.begin() + r.offset))
          << "batch " << max_batch << " offset " << r.offset;
  }
}

TEST_F(BatchReadTest, ARequestPastTheEndFailsNamingItsRange) {
  auto file = ImageFile::open_read_only(path_);
  ASSERT_TRUE(file.ok());
  BatchReader reader(*file, 16);
  std::vector<uint8_t> a(4096), b(4096);
  std::vector<ReadRequest> reqs = {{0, a}, {bytes_.size() - 100, b}};
  const Status st = reader.read(reqs);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find(fmt::format("0x{:x}", bytes_.size() - 100)), std::string::npos) << st.message();
}

TEST_F(BatchReadTest, PrefetchHandsOutEveryUnitInOrder) {
  auto file = ImageFile::open_read_only(path_);
  ASSERT_TRUE(file.ok());
  constexpr size_t kUnit = 512;
  const size_t count = 3000;  // enough for the reading thread, wrapping the slots many times
  auto offset_of = [&](size_t i) { return (i * 7919 % (bytes_.size() / kUnit)) * kUnit; };
  PrefetchReader reader(*file, offset_of, count, kUnit, 16 * kUnit);
  for (size_t i = 0; i < count; ++i) {
    auto unit = reader.next();
    ASSERT_TRUE(unit.ok()) << unit.status().message();
    ASSERT_TRUE(std::equal(unit->begin(), unit->end(), bytes_.begin() + offset_of(i))) << "unit " << i;
  }
  EXPECT_FALSE(reader.next().ok());
}

}  // namespace
}  // namespace qcow2
