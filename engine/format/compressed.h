// Compressed clusters: zlib clusters are raw deflate streams (no zlib header); zstd clusters are
// a zstd stream decoded until one full cluster comes out.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/format/header.h"
#include "engine/util/status.h"

namespace qcow2 {

// Decompresses `in` (the bytes an L2 descriptor covers, possibly with trailing bytes of a
// neighbouring stream) into exactly out.size() bytes. Fails with kCorruption, naming why, when
// the stream is invalid or yields fewer bytes than one cluster.
Status decompress_cluster(CompressionType type, std::span<const uint8_t> in,
                          std::span<uint8_t> out);

// For tests and fixtures: compresses one cluster the way QEMU does.
Status compress_cluster(CompressionType type, std::span<const uint8_t> in,
                        std::vector<uint8_t>& out);

}  // namespace qcow2
