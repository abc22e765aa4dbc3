// The mounted tree's `map` (guest -> host, as qemu-img map shows it) and `clusters` (what each
// host cluster of the file holds) files.
#pragma once

#include <vector>

#include "engine/check/checker.h"
#include "engine/io/image.h"
#include "engine/render/text_sink.h"
#include "engine/walk/guest_map.h"

namespace qcow2 {

// Columns: start, length, kind (data, zero, compressed, unallocated), host_offset ("-" when
// the extent has no host cluster; for compressed data the stream's byte offset).
void render_guest_map(const std::vector<GuestExtent>& extents, TextSink& out);

// Columns: first (cluster index), host_offset, count, role. Runs of clusters with one role:
// a metadata role from the check's ranges (header, l1, l2, refcount-table, refcount-block,
// snapshot-table, snapshot-l1, bitmap-directory, bitmap-table, bitmap-data, crypto-header),
// data (referenced by some L2 entry), leaked (no reference, refcount above 0) or free.
// One error line when the check could not count references.
void render_cluster_map(const Image& img, const CheckResult& r, TextSink& out);

}  // namespace qcow2
