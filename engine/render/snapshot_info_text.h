// The mounted tree's `snapshots/NAME/info` file: every field of one snapshot table entry.
#pragma once

#include <string_view>

#include "engine/io/image.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// A `field value` table: index, directory (and why it is not the id, when `name_note` is
// set), id, name, entry offset and size, L1 table offset and size (and whether it can be read),
// date, vm_clock, vm_state_size, disk_size, icount, extra data size. Values are the last
// column, so they may contain spaces.
void render_snapshot_info(const Image& img, const Snapshot& s, std::string_view dir_name,
                          std::string_view name_note, TextSink& out);

// Why a snapshot's L1 table cannot be read (offset zero, unaligned, past the end of the file),
// or empty when it can.
std::string snapshot_l1_problem(const Image& img, const Snapshot& s);

}  // namespace qcow2
