#include "engine/format/snapshot.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/format/extent.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

// v3 entries must carry vm_state_size_large and disk_size.
constexpr uint32_t kV3MinExtraData = 16;

// The fixed 40 bytes, decoded; nothing in it is trusted yet.
Snapshot decode_fixed(const uint8_t* p) {
  Snapshot s;
  s.l1_table_offset = load_be64(p + 0);
  s.l1_size = load_be32(p + 8);
  s.id_size = load_be16(p + 12);
  s.name_size = load_be16(p + 14);
  s.date_sec = load_be32(p + 16);
  s.date_nsec = load_be32(p + 20);
  s.vm_clock_nsec = load_be64(p + 24);
  s.vm_state_size = load_be32(p + 32);
  s.extra_data_size = load_be32(p + 36);
  return s;
}

// Checks the fields that bound the entry before its size is trusted. Empty when fine.
std::string check_fixed(const Snapshot& s, uint32_t index, uint32_t version) {
  if (s.extra_data_size > kSnapshotMaxExtraData)
    return fmt::format("snapshot {}: extra_data_size is {}: over QEMU's limit of {} bytes", index,
                       s.extra_data_size, kSnapshotMaxExtraData);
  if (version >= 3 && s.extra_data_size < kV3MinExtraData)
    return fmt::format(
        "snapshot {}: extra_data_size is {}: a version 3 entry needs at least {} "
        "(vm_state_size_large and disk_size)",
        index, s.extra_data_size, kV3MinExtraData);
  if (s.l1_size > kMaxL1Entries)
    return fmt::format("snapshot {}: l1_size is {}: over QEMU's limit of {} entries (32 MiB)",
                       index, s.l1_size, kMaxL1Entries);
  return {};
}

// Reads the variable part (extra data, id, name) that follows the fixed 40 bytes.
// The caller has checked that all of it lies inside the span.
void decode_variable(const uint8_t* p, Snapshot& s) {
  s.extra_data.assign(p, p + s.extra_data_size);
  // Each known extra field exists only when extra_data_size covers all 8 of its bytes.
  const auto field = [&](uint32_t at) -> std::optional<uint64_t> {
    if (s.extra_data_size < at + 8) return std::nullopt;
    return load_be64(p + at);
  };
  s.vm_state_size_large = field(0);
  s.disk_size = field(8);
  s.icount = field(16);
  p += s.extra_data_size;
  // An empty id is legal on disk, though QEMU always writes one ("1", "2", ...).
  s.id.assign(reinterpret_cast<const char*>(p), s.id_size);
  p += s.id_size;
  s.name.assign(reinterpret_cast<const char*>(p), s.name_size);
}

}  // namespace

std::string snapshot_l1_problem(const Snapshot& s, const Geometry& g, uint64_t file_size) {
  // l1_size is within QEMU's limit: parse_snapshot_table stops at an entry beyond it.
  if (s.l1_size == 0) return {};
  if (s.l1_table_offset == 0) return "its l1_table_offset is 0";
  if (!is_aligned(s.l1_table_offset, g.cluster_size))
    return fmt::format("its l1_table_offset 0x{:x} is not cluster aligned", s.l1_table_offset);
  if (!inside_file(s.l1_table_offset, uint64_t{s.l1_size} * 8, file_size))
    return fmt::format("its L1 table (0x{:x}, {} entries) lies past the end of the file", s.l1_table_offset,
                       s.l1_size);
  return {};
}

SnapshotTable parse_snapshot_table(std::span<const uint8_t> bytes, uint64_t table_offset,
                                   uint32_t nb, uint32_t version) {
  SnapshotTable t;
  // nb comes from the image: reserve only what the bytes could possibly hold.
  t.snapshots.reserve(std::min<uint64_t>(nb, bytes.size() / kSnapshotFixedBytes));
  const uint64_t area_end = table_offset + bytes.size();
  uint64_t pos = 0;
  for (uint32_t i = 0; i < nb; ++i) {
    const auto fail = [&](std::string why) {
      t.bad_index = i;
      t.error = std::move(why);
    };
    if (pos > bytes.size() || bytes.size() - pos < kSnapshotFixedBytes) {
      t.out_of_bytes = true;
      fail(fmt::format(
          "snapshot {}: entry at 0x{:x} needs {} bytes but the table area ends at 0x{:x}", i,
          table_offset + pos, kSnapshotFixedBytes, area_end));
      break;
    }
    Snapshot s = decode_fixed(&bytes[pos]);
    if (std::string why = check_fixed(s, i, version); !why.empty()) {
      fail(std::move(why));
      break;
    }
    // Bounded by 40 + 1024 + 2 * 65535 after check_fixed: no overflow in 32 bits.
    const uint32_t content = kSnapshotFixedBytes + s.extra_data_size + s.id_size + s.name_size;
    const auto need = static_cast<uint32_t>(align_up(content, 8));
    if (pos + need > kSnapshotTableMaxBytes) {
      fail(fmt::format("snapshot {}: the table would grow to {} bytes: over QEMU's limit of {}", i,
                       pos + need, kSnapshotTableMaxBytes));
      break;
    }
    // Like QEMU, never read the padding: a last entry may end unpadded at the end of the file.
    if (bytes.size() - pos < content) {
      t.out_of_bytes = true;
      fail(fmt::format(
          "snapshot {}: entry at 0x{:x} needs {} bytes but the table area ends at 0x{:x}", i,
          table_offset + pos, content, area_end));
      break;
    }
    decode_variable(&bytes[pos + kSnapshotFixedBytes], s);
    s.index = i;
    s.entry_offset = table_offset + pos;
    s.entry_bytes = need;
    t.snapshots.push_back(std::move(s));
    pos += need;
  }
  t.table_bytes = pos;
  return t;
}

}  // namespace qcow2
