// The mounted tree's `refcount/table` and `refcount/N` files.
#pragma once

#include <cstdint>
#include <span>

#include "engine/check/ref_counter.h"
#include "engine/io/image.h"
#include "engine/render/finding_index.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Columns: index, raw, block_offset, status (unused, ok, or a comma list of unaligned,
// past-eof, reserved), finding. Every non-zero entry of the refcount table (it is padded to
// whole clusters with zeros).
void render_refcount_table(const Image& img, std::span<const uint64_t> table,
                           const FindingIndex* findings, TextSink& out);

// Reads the refcount block that refcount-table entry `index` (raw value `raw`) points to.
// Columns: cluster, host_offset, refcount (on disk), computed (references the check counted,
// "-" while `counts` is null), mark (ok, leak: refcount above the references, error: below;
// "-" without counts). Lines for the clusters inside the file and for any other cluster with
// a non-zero count. One error line when the block cannot be read.
void render_refcount_block(const Image& img, uint64_t index, uint64_t raw,
                           const RefCounter* counts, TextSink& out);

}  // namespace qcow2
