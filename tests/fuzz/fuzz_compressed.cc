// Fuzz target: one compressed cluster. Input layout: byte 0 bit 0 picks the compression type
// (0 zlib, 1 zstd); byte 1 picks cluster_bits 9..21 (512 B to 2 MiB); the rest is the stream
// as an L2 descriptor would cover it. The output buffer is exactly one cluster, freshly
// allocated, so ASan sees any write past it; memory stays at one cluster (2 MiB at most).
// A stream that decompresses is compressed again and must round-trip.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/format/compressed.h"

namespace {

constexpr size_t kPrefix = 2;
constexpr size_t kMaxStream = 4u << 20;  // a 2 MiB cluster's stream plus a neighbour's bytes
constexpr size_t kMaxRoundTrip = 64u << 10;  // compressing 2 MiB clusters would slow every run

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kPrefix || size - kPrefix > kMaxStream) return 0;
  const auto type = (data[0] & 1) ? qcow2::CompressionType::kZstd : qcow2::CompressionType::kZlib;
  const size_t cluster = size_t{1} << (9 + data[1] % 13);
  const std::span<const uint8_t> in(data + kPrefix, size - kPrefix);

  std::vector<uint8_t> out(cluster);
  if (!qcow2::decompress_cluster(type, in, out).ok() || cluster > kMaxRoundTrip) return 0;

  std::vector<uint8_t> packed;
  if (!qcow2::compress_cluster(type, out, packed).ok()) return 0;  // incompressible: stored raw
  std::vector<uint8_t> again(cluster);
  if (!qcow2::decompress_cluster(type, packed, again).ok() || again != out) __builtin_trap();
  return 0;
}
