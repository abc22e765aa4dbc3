// Byte ranges of the image file: the one rule for "does this lie inside the file" and for the
// clusters a range covers. Every bound check of a pointer goes through here, so that no two
// places disagree about the edge (a range ending exactly at the end of the file is inside).
#pragma once

#include <cstdint>

namespace qcow2 {

// [offset, offset + bytes) lies inside a file of file_size bytes (an empty range at the end
// of the file does too).
inline bool inside_file(uint64_t offset, uint64_t bytes, uint64_t file_size) {
  return offset <= file_size && bytes <= file_size - offset;
}

// The clusters [first, first + count) that bytes [offset, offset + bytes) touch; none for an
// empty range.
struct ClusterSpan {
  uint64_t first = 0;
  uint64_t count = 0;
};

inline ClusterSpan cluster_span(uint64_t offset, uint64_t bytes, uint32_t cluster_bits) {
  if (bytes == 0) return {offset >> cluster_bits, 0};
  const uint64_t first = offset >> cluster_bits;
  return {first, ((offset + (bytes - 1)) >> cluster_bits) - first + 1};
}

// Clusters of a file of file_size bytes (a last partial cluster counts).
inline uint64_t file_clusters(uint64_t file_size, uint32_t cluster_bits) {
  return (file_size >> cluster_bits) + ((file_size & ((1ULL << cluster_bits) - 1)) != 0);
}

}  // namespace qcow2
