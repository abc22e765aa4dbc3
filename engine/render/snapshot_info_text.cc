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

void render_snapshot_info(const Snapshot& s, std::string_view dir_name, std::string_view name_note,
                          std::string_view l1_problem, TextSink& out) {
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
  row(out, "l1_status", l1_problem.empty() ? std::string_view("ok") : l1_problem);
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
