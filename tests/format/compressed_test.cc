// Compressed cluster decoding: round trips and every way a stream can be wrong.
#include "engine/format/compressed.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "engine/util/bytes.h"
#include "tests/support/fixtures.h"

namespace qcow2 {
namespace {

// Partly compressible bytes (16 letters), deterministic per seed.
std::vector<uint8_t> sample(size_t n, uint32_t seed = 1) {
  std::vector<uint8_t> v(n);
  uint32_t x = 0x9e3779b9 ^ seed;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>('a' + (x & 15));
  }
  return v;
}

std::vector<uint8_t> compress(CompressionType t, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out;
  Status st = compress_cluster(t, in, out);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

const char* type_name(CompressionType t) { return t == CompressionType::kZlib ? "zlib" : "zstd"; }

struct Case {
  CompressionType type;
  size_t cluster;
};

class CompressedRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(CompressedRoundTrip, RoundTripsSampleAndPatternData) {
  const auto [type, cluster] = GetParam();
  for (const auto& data : {sample(cluster), std::vector<uint8_t>(cluster, 0x5a)}) {
    std::vector<uint8_t> packed = compress(type, data);
    ASSERT_FALSE(packed.empty());
    EXPECT_LT(packed.size(), data.size());
    std::vector<uint8_t> out(cluster, 0xee);
    Status st = decompress_cluster(type, packed, out);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(out, data);
  }
}

TEST_P(CompressedRoundTrip, AcceptsTrailingBytesAfterTheStream) {
  // The descriptor's range is rounded to sectors and may run into the next stream.
  const auto [type, cluster] = GetParam();
  const auto data = sample(cluster, 7);
  std::vector<uint8_t> packed = compress(type, data);
  std::vector<uint8_t> next = compress(type, sample(cluster, 8));
  std::vector<uint8_t> garbage(1024, 0xff);
  for (const auto& tail : {garbage, next}) {
    std::vector<uint8_t> in = packed;
    in.insert(in.end(), tail.begin(), tail.end());
    std::vector<uint8_t> out(cluster);
    Status st = decompress_cluster(type, in, out);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(out, data);
  }
}

TEST_P(CompressedRoundTrip, TruncatedStreamIsCorruption) {
  const auto [type, cluster] = GetParam();
  const auto data = sample(cluster, 3);
  std::vector<uint8_t> packed = compress(type, data);
  for (size_t keep : {size_t{0}, size_t{1}, packed.size() / 2}) {
    std::vector<uint8_t> in(packed.begin(), packed.begin() + static_cast<long>(keep));
    std::vector<uint8_t> out(cluster);
    Status st = decompress_cluster(type, in, out);
    EXPECT_EQ(st.code(), Code::kCorruption) << "kept " << keep << " of " << packed.size();
    EXPECT_NE(st.message().find(type_name(type)), std::string::npos) << st.message();
  }
}

TEST_P(CompressedRoundTrip, CutTailNeverYieldsWrongData) {
  // The last byte(s) of a deflate stream may only hold the end-of-block code: every data byte
  // is out already and QEMU accepts the full buffer. Whatever is cut, the result is either
  // the right cluster or a Corruption, never other bytes.
  const auto [type, cluster] = GetParam();
  const auto data = sample(cluster, 5);
  std::vector<uint8_t> packed = compress(type, data);
  for (size_t cut = 1; cut <= 8 && cut < packed.size(); ++cut) {
    std::vector<uint8_t> in(packed.begin(), packed.end() - static_cast<long>(cut));
    std::vector<uint8_t> out(cluster);
    Status st = decompress_cluster(type, in, out);
    if (st.ok()) {
      EXPECT_EQ(out, data) << "cut " << cut;
    } else {
      EXPECT_EQ(st.code(), Code::kCorruption) << st.message();
    }
  }
}

TEST_P(CompressedRoundTrip, ShortStreamIsCorruption) {
  const auto [type, cluster] = GetParam();
  std::vector<uint8_t> packed = compress(type, sample(cluster / 2, 4));
  std::vector<uint8_t> out(cluster);
  Status st = decompress_cluster(type, packed, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("ended after " + std::to_string(cluster / 2) + " of " +
                              std::to_string(cluster)),
            std::string::npos)
      << st.message();
}

TEST_P(CompressedRoundTrip, GarbageIsCorruption) {
  const auto [type, cluster] = GetParam();
  std::vector<uint8_t> out(cluster);
  // 0xff: a final block of the reserved type 11; 0x00: a stored block whose LEN/NLEN disagree
  // further on. Neither is a zstd magic number.
  for (const auto& in : {std::vector<uint8_t>(512, 0xff), std::vector<uint8_t>(512, 0x00)}) {
    Status st = decompress_cluster(type, in, out);
    EXPECT_EQ(st.code(), Code::kCorruption) << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << "one line: " << st.message();
  }
}

TEST_P(CompressedRoundTrip, MutatedStreamsFailCleanly) {
  // Damaged images feed the decoder arbitrary bytes: it must answer ok or Corruption (the
  // sanitizer build checks it never reads or writes out of bounds).
  const auto [type, cluster] = GetParam();
  std::vector<uint8_t> packed = compress(type, sample(cluster, 21));
  uint32_t x = 12345;
  const int rounds = cluster > 65536 ? 10 : 300;  // small clusters cover the paths
  for (int round = 0; round < rounds; ++round) {
    std::vector<uint8_t> in = packed;
    for (int flips = 0; flips < 1 + round % 4; ++flips) {
      x = x * 1664525 + 1013904223;
      in[x % in.size()] ^= static_cast<uint8_t>(1u << ((x >> 16) & 7));
    }
    std::vector<uint8_t> out(cluster);
    Status st = decompress_cluster(type, in, out);
    if (!st.ok()) {
      ASSERT_EQ(st.code(), Code::kCorruption) << st.message();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, CompressedRoundTrip,
    ::testing::Values(Case{CompressionType::kZlib, 512}, Case{CompressionType::kZlib, 65536},
                      Case{CompressionType::kZlib, 2 << 20}, Case{CompressionType::kZstd, 512},
                      Case{CompressionType::kZstd, 65536}, Case{CompressionType::kZstd, 2 << 20}),
    [](const auto& info) {
      return std::string(type_name(info.param.type)) + "_" + std::to_string(info.param.cluster);
    });

TEST(Compressed, ZlibEmptyInputIsCorruption) {
  std::vector<uint8_t> out(512);
  Status st = decompress_cluster(CompressionType::kZlib, {}, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
}

TEST(Compressed, ZlibReportsTheDecoderReason) {
  // A stored block (BTYPE 00) whose LEN and NLEN disagree.
  const std::vector<uint8_t> in{0x01, 0x10, 0x00, 0x00, 0x00};
  std::vector<uint8_t> out(512);
  Status st = decompress_cluster(CompressionType::kZlib, in, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_EQ(st.message(), "zlib: invalid stored block lengths");
}

TEST(Compressed, ZlibAcceptsALargerWindowThanQemuWrites) {
  const auto data = sample(65536, 11);
  z_stream s{};
  ASSERT_EQ(deflateInit2(&s, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> packed(deflateBound(&s, data.size()));
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = packed.data();
  s.avail_out = static_cast<uInt>(packed.size());
  ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  packed.resize(packed.size() - s.avail_out);
  deflateEnd(&s);
  std::vector<uint8_t> out(data.size());
  Status st = decompress_cluster(CompressionType::kZlib, packed, out);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(out, data);
}

TEST(Compressed, ZlibStreamLongerThanTheClusterIsAcceptedLikeQemu) {
  // QEMU only asks for a full buffer from inflate; the rest of the stream is never looked at.
  const auto data = sample(8192, 12);
  std::vector<uint8_t> packed = compress(CompressionType::kZlib, data);
  std::vector<uint8_t> out(4096);
  Status st = decompress_cluster(CompressionType::kZlib, packed, out);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin()));
}

TEST(Compressed, ZstdFrameLongerThanTheClusterIsCorruption) {
  // QEMU rejects a zstd frame that is not finished once the cluster is full.
  std::vector<uint8_t> packed = compress(CompressionType::kZstd, sample(8192, 13));
  std::vector<uint8_t> out(4096);
  Status st = decompress_cluster(CompressionType::kZstd, packed, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
}

TEST(Compressed, ZstdSeveralFramesFillOneCluster) {
  // QEMU decodes frame after frame until the cluster is full.
  const auto data = sample(65536, 14);
  std::vector<uint8_t> a = compress(CompressionType::kZstd,
                                    std::vector<uint8_t>(data.begin(), data.begin() + 20000));
  std::vector<uint8_t> b = compress(CompressionType::kZstd,
                                    std::vector<uint8_t>(data.begin() + 20000, data.end()));
  a.insert(a.end(), b.begin(), b.end());
  std::vector<uint8_t> out(data.size());
  Status st = decompress_cluster(CompressionType::kZstd, a, out);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(out, data);
}

TEST(Compressed, ZstdShortFrameFollowedByGarbageNamesTheShortfall) {
  std::vector<uint8_t> in = compress(CompressionType::kZstd, sample(1000, 15));
  in.insert(in.end(), 64, 0xff);
  std::vector<uint8_t> out(4096);
  Status st = decompress_cluster(CompressionType::kZstd, in, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("ended after 1000 of 4096"), std::string::npos) << st.message();
}

// Cross-check with QEMU: decode the compressed clusters qemu-io wrote into the standard
// fixtures, reading the descriptors by hand (spec: "Compressed Clusters Descriptor").
TEST(Compressed, DecodesClustersQemuWrote) {
  QCOW2_SKIP_WITHOUT_QEMU();
  for (const char* name : {"zlib_compressed", "zstd_compressed"}) {
    SCOPED_TRACE(name);
    test::TempDir dir;
    const test::FixtureSpec spec = test::standard_fixture(name);
    const std::string image = test::build_fixture(dir, spec);
    ASSERT_FALSE(image.empty());
    const auto file = test::read_file_bytes(image);
    const auto source = test::read_file_bytes(dir.file(test::kSourceFile));
    ASSERT_GT(file.size(), 512u);
    const uint32_t cluster_bits = load_be32(&file[20]);
    const uint64_t cluster = uint64_t{1} << cluster_bits;
    const uint64_t l1 = load_be64(&file[40]);
    const uint64_t l2 = load_be64(&file[l1]) & 0x00fffffffffffe00ULL;
    const uint32_t x = 62 - (cluster_bits - 8);
    // Guest cluster -> expected contents, from FixtureSpec::io_commands.
    const std::vector<std::pair<uint64_t, std::vector<uint8_t>>> want{
        {0, std::vector<uint8_t>(cluster, 0x5a)},
        {1, std::vector<uint8_t>(source.begin(), source.begin() + cluster)},
        {2, std::vector<uint8_t>(cluster, 0x5b)},
        {3, std::vector<uint8_t>(source.begin(), source.begin() + cluster)},
        {32, std::vector<uint8_t>(cluster, 0x5c)}};
    for (const auto& [index, data] : want) {
      const uint64_t e = load_be64(&file[l2 + 8 * index]);
      ASSERT_TRUE(e & (1ULL << 62)) << "guest cluster " << index << " is not compressed";
      const uint64_t offset = e & ((1ULL << x) - 1);
      const uint64_t sectors = ((e >> x) & ((1ULL << (cluster_bits - 8)) - 1)) + 1;
      const uint64_t end = std::min<uint64_t>((offset & ~511ULL) + sectors * 512, file.size());
      std::span<const uint8_t> in(&file[offset], end - offset);
      std::vector<uint8_t> out(cluster);
      Status st = decompress_cluster(spec.compression_type, in, out);
      ASSERT_TRUE(st.ok()) << "guest cluster " << index << ": " << st.message();
      EXPECT_EQ(out, data) << "guest cluster " << index;
    }
  }
}

}  // namespace
}  // namespace qcow2
