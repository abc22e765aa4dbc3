// The mounted tree's `map` (guest -> host, as qemu-img map shows it) and `clusters` (what each
// host cluster of the file holds) files.
#pragma once

#include <vector>

#include "engine/check/cluster_roles.h"
#include "engine/io/image.h"
#include "engine/render/text_sink.h"
#include "engine/walk/guest_map.h"

namespace qcow2 {

// Columns: start, length, kind (data, zero, compressed, unallocated), host_offset ("-" when
// the extent has no host cluster; for compressed data the stream's byte offset).
void render_guest_map(const std::vector<GuestExtent>& extents, TextSink& out);

// Columns: first (cluster index), host_offset, count, role: one line per run of clusters with
// one role (check/cluster_roles.h).
void render_cluster_map(const std::vector<RoleRun>& runs, uint32_t cluster_bits, TextSink& out);

}  // namespace qcow2
