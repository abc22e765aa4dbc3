// The internal snapshot table (spec: "Snapshots"). Entries are variable-length, padded to 8.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/format/geometry.h"
#include "engine/format/limits.h"

namespace qcow2 {

inline constexpr uint32_t kSnapshotFixedBytes = 40;

struct Snapshot {
  uint32_t index = 0;          // position in the table (0-based)
  uint64_t entry_offset = 0;   // file offset of this entry
  uint32_t entry_bytes = 0;    // including padding
  uint64_t l1_table_offset = 0;
  uint32_t l1_size = 0;
  uint16_t id_size = 0;
  uint16_t name_size = 0;
  uint32_t date_sec = 0;
  uint32_t date_nsec = 0;
  uint64_t vm_clock_nsec = 0;
  uint32_t vm_state_size = 0;  // 32-bit field
  uint32_t extra_data_size = 0;
  std::vector<uint8_t> extra_data;  // byte-exact, for rewrites
  std::optional<uint64_t> vm_state_size_large;
  std::optional<uint64_t> disk_size;
  std::optional<uint64_t> icount;
  std::string id;
  std::string name;

  // The VM state size that counts: the 64-bit one when present.
  uint64_t vm_state_bytes() const { return vm_state_size_large.value_or(vm_state_size); }
};

struct SnapshotTable {
  std::vector<Snapshot> snapshots;  // the entries that parsed, in order
  uint64_t table_bytes = 0;         // bytes the parsed entries occupy
  // Set when parsing stopped: which entry (0-based) and why. Entries before it are good.
  std::optional<uint32_t> bad_index;
  std::string error;
  // Parsing stopped because the bytes given ran out (more of the file may hold the rest).
  bool out_of_bytes = false;
  bool ok() const { return !bad_index.has_value(); }
};

// Parses `nb` entries from `bytes`, which start at file offset `table_offset`. Stops at the
// first entry that does not fit in `bytes` or breaks a limit, recording which and why.
// `version` 3 requires at least 16 bytes of extra data per entry.
// Why a snapshot's L1 table cannot be read (offset 0 or unaligned, over QEMU's size limit, past
// the end of the file), or empty when it can. The one rule for every reader of snapshot L1s.
std::string snapshot_l1_problem(const Snapshot& s, const Geometry& g, uint64_t file_size);

SnapshotTable parse_snapshot_table(std::span<const uint8_t> bytes, uint64_t table_offset,
                                   uint32_t nb, uint32_t version);

}  // namespace qcow2
