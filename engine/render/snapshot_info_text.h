// The mounted tree's `snapshots/NAME/info` file: every field of one snapshot table entry.
#pragma once

#include <string_view>

#include "engine/io/image.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// A `field value` table: index, directory (and why it is not the id, when `name_note` is
// set), id, name, entry offset and size, L1 table offset and size, l1_status (`l1_problem`,
// the layout's verdict on the table, or "ok"), date, vm_clock, vm_state_size, disk_size, icount,
// extra data size. Values are the last column, so they may contain spaces.
void render_snapshot_info(const Snapshot& s, std::string_view dir_name, std::string_view name_note,
                          std::string_view l1_problem, TextSink& out);

}  // namespace qcow2
