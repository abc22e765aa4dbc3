// The qcow2 header (spec: docs/interop/qcow2.rst, "Header"), decoded without trusting any field.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace qcow2 {

inline constexpr uint32_t kQcow2Magic = 0x514649fb;  // "QFI\xfb"
inline constexpr uint32_t kV2HeaderLength = 72;
inline constexpr uint32_t kV3MinHeaderLength = 104;

// Incompatible feature bits.
inline constexpr uint64_t kIncompatDirty = 1ULL << 0;
inline constexpr uint64_t kIncompatCorrupt = 1ULL << 1;
inline constexpr uint64_t kIncompatDataFile = 1ULL << 2;
inline constexpr uint64_t kIncompatCompression = 1ULL << 3;
inline constexpr uint64_t kIncompatExtendedL2 = 1ULL << 4;
inline constexpr uint64_t kIncompatKnown = 0x1f;
// Compatible and autoclear feature bits.
inline constexpr uint64_t kCompatLazyRefcounts = 1ULL << 0;
inline constexpr uint64_t kCompatKnown = 0x1;
inline constexpr uint64_t kAutoclearBitmaps = 1ULL << 0;
inline constexpr uint64_t kAutoclearDataFileRaw = 1ULL << 1;
inline constexpr uint64_t kAutoclearKnown = 0x3;

enum class CompressionType : uint8_t { kZlib = 0, kZstd = 1 };

struct Header {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint64_t backing_file_offset = 0;
  uint32_t backing_file_size = 0;
  uint32_t cluster_bits = 0;
  uint64_t size = 0;
  uint32_t crypt_method = 0;
  uint32_t l1_size = 0;
  uint64_t l1_table_offset = 0;
  uint64_t refcount_table_offset = 0;
  uint32_t refcount_table_clusters = 0;
  uint32_t nb_snapshots = 0;
  uint64_t snapshots_offset = 0;
  // Version 3 fields; version 2 gets the values the spec implies.
  uint64_t incompatible_features = 0;
  uint64_t compatible_features = 0;
  uint64_t autoclear_features = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = kV2HeaderLength;
  // Optional field at byte 104, present when header_length > 104.
  bool has_compression_type = false;
  uint8_t compression_type = 0;
};

// One header field as stored: where it sits and what it holds.
struct HeaderField {
  const char* name;
  uint32_t offset;
  uint32_t size;
  uint64_t value;
  bool present;  // false for v3 fields of a v2 header, or byte 104 on a short header
};

// Decodes the fixed header. Fails only when the bytes are not a qcow2 header at all (short,
// wrong magic, unknown version); every other oddity is for validate_header to report.
Result<Header> decode_header(std::span<const uint8_t> bytes);

// Every field, in file order, with offsets and sizes (for -H and the mounted `header` file).
std::vector<HeaderField> header_fields(const Header& h);

// The static field layout (value 0), usable without an image.
std::vector<HeaderField> header_layout();

enum class Severity : uint8_t { kInfo, kWarning, kError, kFatal };

// A header problem: names the field, its value and why it is wrong. kFatal means the
// tables cannot be walked safely (the image is still shown as far as it can be read).
struct HeaderProblem {
  Severity severity;
  std::string field;
  std::string message;
};

// Checks every field against the spec and QEMU's limits and against the file size.
std::vector<HeaderProblem> validate_header(const Header& h, uint64_t file_size);

}  // namespace qcow2
