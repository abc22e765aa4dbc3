// The mounted tree's `refcount/table` and `refcount/N` files.
#pragma once

#include <cstdint>
#include <span>

#include "engine/check/layout.h"
#include "engine/check/ref_counter.h"
#include "engine/io/image.h"
#include "engine/render/finding_index.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Columns: index, raw, block_offset, status (ok, or the layout's verdict: reserved,
// unaligned, past-eof, cross-link), finding. Every non-zero entry of the refcount table (it is
// padded to whole clusters with zeros).
void render_refcount_table(const Image& img, const Layout& layout, const FindingIndex* findings, TextSink& out);

// Refcount block `index` (its bytes, which the layout accepted). Columns: cluster,
// host_offset, refcount (on disk), computed (references the check counted, "-" while `counts`
// is null), mark (ok, leak: refcount above the references, error: below; "-" without counts).
// Lines for the clusters inside the file and for any other cluster with a non-zero count.
void render_refcount_block(const Image& img, uint64_t index, std::span<const uint8_t> block,
                           const RefCounter* counts, TextSink& out);

}  // namespace qcow2
