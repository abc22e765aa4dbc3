// Persistent dirty bitmaps: the bitmap directory and bitmap table entries (spec: "Bitmaps").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qcow2 {

inline constexpr uint32_t kBitmapInUse = 1U << 0;
inline constexpr uint32_t kBitmapAuto = 1U << 1;
inline constexpr uint32_t kBitmapExtraDataCompatible = 1U << 2;
inline constexpr uint64_t kBitmapTableReservedMask = 0xff000000000001feULL;

struct BitmapEntry {
  uint64_t entry_offset = 0;  // file offset of this directory entry
  uint32_t entry_bytes = 0;   // including padding
  uint64_t table_offset = 0;
  uint32_t table_size = 0;    // entries in the bitmap table
  uint32_t flags = 0;
  uint8_t type = 0;
  uint8_t granularity_bits = 0;
  uint16_t name_size = 0;
  uint32_t extra_data_size = 0;
  std::string name;
};

struct BitmapDirectory {
  std::vector<BitmapEntry> bitmaps;
  std::string error;  // empty when the directory parsed completely and matched nb_bitmaps
  bool cross_linked = false;  // not decoded: it lies in another structure
  // Entries that parsed but break a spec or QEMU constraint (type, granularity, flags, ...);
  // one line each. They do not stop parsing and do not affect ok().
  std::vector<std::string> problems;
  bool ok() const { return error.empty(); }
};

// Parses a directory of `directory_size` bytes (given whole in `bytes`) at file offset
// `directory_offset`, expecting `nb_bitmaps` entries.
BitmapDirectory parse_bitmap_directory(std::span<const uint8_t> bytes, uint64_t directory_offset,
                                       uint32_t nb_bitmaps);

// One bitmap table entry: a data cluster offset, or (offset 0) all-zeros / all-ones.
struct BitmapTableEntry {
  uint64_t raw = 0;
  uint64_t offset = 0;     // bits 9..55
  bool all_ones = false;   // bit 0, meaningful only when offset is 0
  uint64_t reserved = 0;   // reserved bits that are set
};

BitmapTableEntry decode_bitmap_table_entry(uint64_t raw);

}  // namespace qcow2
