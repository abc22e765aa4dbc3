// Fuzz target: the internal snapshot table. Input layout: byte 0 picks the image version
// (bit 0 set: 3, else 2), bytes 1-4 are nb_snapshots (big-endian), the rest is the table.
// What parsed is rendered as the mounted `snapshots/<dir>/info` files show it, against a
// fixed small image (the renderers judge each snapshot's L1 pointer against an image).
// Beyond crashes, it checks what snapshot.h promises: entries padded to 8 and back to back
// from the table offset, fields the sizes say, and parsing stopped exactly at bad_index.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/format/snapshot.h"
#include "engine/render/dump_text.h"
#include "engine/render/snapshot_info_text.h"
#include "engine/render/snapshot_text.h"
#include "engine/render/text_sink.h"
#include "engine/util/bytes.h"
#include "fusefs/snapshot_names.h"
#include "tests/fuzz/base_image.h"

namespace {

constexpr size_t kPrefix = 5;
constexpr uint64_t kTableOffset = 0x30000;  // any cluster-aligned offset: only messages show it

void check_layout(const qcow2::SnapshotTable& t, uint32_t nb) {
  uint64_t pos = 0;
  for (size_t i = 0; i < t.snapshots.size(); ++i) {
    const qcow2::Snapshot& s = t.snapshots[i];
    const uint64_t content = uint64_t{qcow2::kSnapshotFixedBytes} + s.extra_data_size + s.id_size + s.name_size;
    if (s.index != i || s.entry_offset != kTableOffset + pos || s.entry_bytes % 8 != 0 ||
        s.entry_bytes < content || s.entry_bytes >= content + 8 || s.id.size() != s.id_size ||
        s.name.size() != s.name_size || s.extra_data.size() != s.extra_data_size)
      __builtin_trap();
    pos += s.entry_bytes;
  }
  if (t.table_bytes != pos) __builtin_trap();
  if (t.ok() ? t.snapshots.size() != nb : *t.bad_index != t.snapshots.size() || t.error.empty())
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kPrefix || size > qcow2::kSnapshotTableMaxBytes) return 0;
  const uint32_t version = (data[0] & 1) ? 3 : 2;
  const uint32_t nb = qcow2::load_be32(data + 1);
  const auto table = qcow2::parse_snapshot_table(std::span<const uint8_t>(data + kPrefix, size - kPrefix),
                                                 kTableOffset, nb, version);
  check_layout(table, nb);

  const qcow2::Image& img = qcow2fuzz::base_image();
  const auto names = qcow2fs::snapshot_names(table.snapshots);
  if (names.size() != table.snapshots.size()) __builtin_trap();
  qcow2::StringSink out;
  for (size_t i = 0; i < table.snapshots.size(); ++i) {
    const qcow2::Snapshot& s = table.snapshots[i];
    qcow2::render_snapshot_info(s, names[i].name, names[i].note,
                                qcow2::snapshot_l1_problem(s, img.geometry(), img.file_size()), out);
    out.write(qcow2::snapshot_section_title(s));
  }
  out.write(table.error);
  return 0;
}
