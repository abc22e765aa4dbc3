#include "engine/format/bitmap.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/format/limits.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

constexpr uint32_t kDirEntryFixedBytes = 24;
constexpr uint8_t kTypeDirtyTracking = 1;
constexpr uint8_t kMinGranularityBits = 9;  // QEMU supports 9..31 only
constexpr uint8_t kMaxGranularityBits = 31;
constexpr uint32_t kSpecReservedFlags = ~(kBitmapInUse | kBitmapAuto | kBitmapExtraDataCompatible);

std::string label(uint32_t index, const BitmapEntry& e) {
  return fmt::format("bitmap {} '{}'", index, escape_text(e.name));
}

BitmapEntry decode_fixed(const uint8_t* p) {
  BitmapEntry e;
  e.table_offset = load_be64(p + 0);
  e.table_size = load_be32(p + 8);
  e.flags = load_be32(p + 12);
  e.type = p[16];
  e.granularity_bits = p[17];
  e.name_size = load_be16(p + 18);
  e.extra_data_size = load_be32(p + 20);
  return e;
}

// Constraints that do not stop parsing: the entry's extent is still known, so later entries
// can be read. Cluster alignment and coverage of the disk need the geometry; the caller checks.
void check_entry(uint32_t index, const BitmapEntry& e, std::vector<std::string>& out) {
  const std::string who = label(index, e);
  if (e.type != kTypeDirtyTracking)
    out.push_back(fmt::format("{}: type is {}: only 1 (dirty tracking) exists", who, e.type));
  if (e.granularity_bits < kMinGranularityBits || e.granularity_bits > kMaxGranularityBits)
    out.push_back(fmt::format("{}: granularity_bits is {}: QEMU supports {} to {}", who,
                              e.granularity_bits, kMinGranularityBits, kMaxGranularityBits));
  if (e.flags & kSpecReservedFlags)
    out.push_back(fmt::format("{}: flags 0x{:x} set reserved bits 0x{:x}", who, e.flags,
                              e.flags & kSpecReservedFlags));
  else if (e.flags & kBitmapExtraDataCompatible)
    out.push_back(
        fmt::format("{}: flags 0x{:x} set extra_data_compatible (bit 2): QEMU treats it as "
                    "reserved and refuses the image",
                    who, e.flags));
  if (e.extra_data_size != 0)
    out.push_back(fmt::format("{}: extra_data_size is {}: QEMU does not support bitmap extra data",
                              who, e.extra_data_size));
  if (e.table_offset == 0) out.push_back(fmt::format("{}: bitmap_table_offset is 0", who));
  if (e.table_size == 0)
    out.push_back(fmt::format("{}: bitmap_table_size is 0", who));
  else if (e.table_size > kMaxBitmapTableEntries)
    out.push_back(fmt::format("{}: bitmap_table_size is {}: over QEMU's limit of {} entries", who,
                              e.table_size, kMaxBitmapTableEntries));
}

}  // namespace

BitmapDirectory parse_bitmap_directory(std::span<const uint8_t> bytes, uint64_t directory_offset,
                                       uint32_t nb_bitmaps) {
  BitmapDirectory d;
  d.bitmaps.reserve(std::min<uint64_t>(nb_bitmaps, bytes.size() / kDirEntryFixedBytes));
  std::set<std::string> names;
  uint64_t pos = 0;
  // Like QEMU: read entries until the directory is used up, then compare the count.
  while (pos < bytes.size()) {
    const uint64_t at = directory_offset + pos;
    const uint32_t index = static_cast<uint32_t>(d.bitmaps.size());
    if (bytes.size() - pos < kDirEntryFixedBytes) {
      d.error = fmt::format(
          "bitmap directory: {} bytes left at 0x{:x} after {} entries: too few for another entry "
          "(24) and not zero",
          bytes.size() - pos, at, index);
      return d;
    }
    if (index >= nb_bitmaps) {
      d.error = fmt::format(
          "bitmap directory: more bitmaps found than nb_bitmaps ({}): entry {} at 0x{:x}",
          nb_bitmaps, index, at);
      return d;
    }
    BitmapEntry e = decode_fixed(&bytes[pos]);
    e.entry_offset = at;
    // QEMU counts the padding too: an entry whose padding passes the end breaks the directory.
    const uint64_t need =
        align_up(uint64_t{kDirEntryFixedBytes} + e.extra_data_size + e.name_size, 8);
    if (need > bytes.size() - pos) {
      d.error = fmt::format(
          "bitmap {}: entry at 0x{:x} needs {} bytes (extra_data_size {}, name_size {}) but the "
          "directory ends at 0x{:x}",
          index, at, need, e.extra_data_size, e.name_size, directory_offset + bytes.size());
      return d;
    }
    if (e.name_size == 0) {
      d.error = fmt::format("bitmap {}: entry at 0x{:x} has name_size 0: every bitmap needs a name",
                            index, at);
      return d;
    }
    if (e.name_size > kMaxBitmapNameBytes) {
      d.error = fmt::format("bitmap {}: entry at 0x{:x} has name_size {}: over QEMU's limit of {}",
                            index, at, e.name_size, kMaxBitmapNameBytes);
      return d;
    }
    const uint8_t* name = &bytes[pos + kDirEntryFixedBytes + e.extra_data_size];
    e.name.assign(reinterpret_cast<const char*>(name), e.name_size);
    e.entry_bytes = static_cast<uint32_t>(need);
    check_entry(index, e, d.problems);
    if (!names.insert(e.name).second)
      d.problems.push_back(
          fmt::format("{}: the name is used by an earlier bitmap", label(index, e)));
    d.bitmaps.push_back(std::move(e));
    pos += need;
  }
  if (d.bitmaps.size() < nb_bitmaps)
    d.error = fmt::format("bitmap directory: fewer bitmaps than nb_bitmaps: found {}, expected {}",
                          d.bitmaps.size(), nb_bitmaps);
  return d;
}

BitmapTableEntry decode_bitmap_table_entry(uint64_t raw) {
  constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ULL;
  BitmapTableEntry e;
  e.raw = raw;
  e.offset = raw & kOffsetMask;
  e.all_ones = (raw & 1) != 0;
  e.reserved = raw & kBitmapTableReservedMask;
  return e;
}

}  // namespace qcow2
