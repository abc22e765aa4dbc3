// Fuzz target: the persistent bitmap directory. Input layout: bytes 0-3 are nb_bitmaps
// (big-endian), the rest is the directory (its directory_size is the rest's length). The first
// words of the rest and every parsed bitmap's table offset also go through the bitmap table
// entry decoder. Beyond crashes, it checks what bitmap.h promises: entries padded to 8 and back
// to back, names of name_size bytes, and a directory that parsed is used up by nb entries.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/format/bitmap.h"
#include "engine/util/bytes.h"

namespace {

constexpr size_t kPrefix = 4;
constexpr uint64_t kDirectoryOffset = 0x50000;   // cluster aligned, as Image requires
constexpr size_t kMaxDirectory = 1024 * 65535;   // Image's limit on directory_size
constexpr size_t kEntryWords = 8;

void check_entry(uint64_t raw) {
  const qcow2::BitmapTableEntry e = qcow2::decode_bitmap_table_entry(raw);
  // The fields are disjoint views of the raw word.
  if (e.raw != raw || (e.offset & ~raw) != 0 || (e.reserved & ~raw) != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kPrefix || size - kPrefix > kMaxDirectory) return 0;
  const uint32_t nb = qcow2::load_be32(data);
  const std::span<const uint8_t> dir(data + kPrefix, size - kPrefix);
  const auto d = qcow2::parse_bitmap_directory(dir, kDirectoryOffset, nb);
  if (d.bitmaps.size() > nb) __builtin_trap();
  uint64_t pos = 0;
  for (const auto& b : d.bitmaps) {
    if (b.entry_offset != kDirectoryOffset + pos || b.entry_bytes % 8 != 0 || b.name.size() != b.name_size ||
        b.name_size == 0 || b.entry_bytes > dir.size() - pos)
      __builtin_trap();
    pos += b.entry_bytes;
    check_entry(b.table_offset);
  }
  if (d.ok() && (pos != dir.size() || d.bitmaps.size() != nb)) __builtin_trap();
  for (size_t i = 0; i < std::min(kEntryWords, dir.size() / 8); ++i) check_entry(qcow2::load_be64(&dir[i * 8]));
  return 0;
}
