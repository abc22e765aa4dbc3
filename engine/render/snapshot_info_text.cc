#include "engine/render/snapshot_info_text.h"

#include <fmt/format.h>

#include "engine/render/column_text.h"
#include "engine/render/snapshot_text.h"
#include "engine/render/text_util.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

void row(TextSink& out, std::string_view field, std::string_view value) {
  out.print("{:<20} {}\n", field, value);
}

std::string optional_u64(const std::optional<uint64_t>& v) {
  return v ? fmt::to_string(*v) : std::string("-");
}

}  // namespace

std::string snapshot_l1_problem(const Image& img, const Snapshot& s) {
  const uint64_t cs = img.geometry().cluster_size;
  if (s.l1_size == 0) return {};
  if (s.l1_table_offset == 0) return "its l1_table_offset is 0";
  if (!is_aligned(s.l1_table_offset, cs))
    return fmt::format("its l1_table_offset 0x{:x} is not cluster aligned", s.l1_table_offset);
  const uint64_t bytes = uint64_t{s.l1_size} * 8;
  if (s.l1_table_offset > img.file_size() || bytes > img.file_size() - s.l1_table_offset)
    return fmt::format("its L1 table (0x{:x}, {} entries) lies past the end of the file",
                       s.l1_table_offset, s.l1_size);
  if (bytes > (32ULL << 20))
    return fmt::format("its l1_size {} is over QEMU's limit of 32 MiB", s.l1_size);
  return {};
}

void render_snapshot_info(const Image& img, const Snapshot& s, std::string_view dir_name,
                          std::string_view name_note, TextSink& out) {
  row(out, "# field", "value");
  row(out, "index", fmt::to_string(s.index));
  row(out, "directory", escape_text(dir_name));
  if (!name_note.empty()) row(out, "directory_note", name_note);
  row(out, "id", escape_text(s.id));
  row(out, "name", escape_text(s.name));
  row(out, "entry_offset", hex_value(s.entry_offset));
  row(out, "entry_bytes", fmt::to_string(s.entry_bytes));
  row(out, "l1_table_offset", hex_value(s.l1_table_offset));
  row(out, "l1_size", fmt::to_string(s.l1_size));
  const std::string bad = snapshot_l1_problem(img, s);
  row(out, "l1_status", bad.empty() ? "ok" : bad);
  row(out, "date", snapshot_date(s.date_sec) + " UTC");
  row(out, "date_sec", fmt::to_string(s.date_sec));
  row(out, "date_nsec", fmt::to_string(s.date_nsec));
  row(out, "vm_clock", snapshot_vm_clock(s.vm_clock_nsec));
  row(out, "vm_clock_nsec", fmt::to_string(s.vm_clock_nsec));
  row(out, "vm_state_size", fmt::to_string(s.vm_state_bytes()));
  row(out, "vm_state_size_32", fmt::to_string(s.vm_state_size));
  row(out, "vm_state_size_64", optional_u64(s.vm_state_size_large));
  row(out, "disk_size", optional_u64(s.disk_size));
  row(out, "icount", optional_u64(s.icount));
  row(out, "extra_data_size", fmt::to_string(s.extra_data_size));
}

}  // namespace qcow2
