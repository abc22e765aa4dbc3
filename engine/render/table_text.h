// The mounted tree's `l1` and `l2/N` files: one line per table entry under one header line,
// with the finding the check made about that entry (once the check is done) in the last column.
#pragma once

#include <cstdint>
#include <span>

#include "engine/format/claims.h"
#include "engine/io/image.h"
#include "engine/render/finding_index.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Columns: index, raw, l2_offset, flags (COPIED or -), status (unused, ok, or a comma list of
// unaligned, past-eof, cross-link, reserved), finding. Every entry of the table, `l1_offset`
// being where it lies in the file (findings are matched by file offset). `claims` are the
// structures an L2 pointer must not lie in (the image's, or a check layout's). `findings` may
// be null.
void render_l1_table(const Image& img, const ClaimMap& claims, uint64_t l1_offset, std::span<const uint64_t> l1,
                     const FindingIndex* findings, TextSink& out);

// The entries of the L2 table at `table_offset` (its bytes in `table`) that L1 entry
// `l1_index` points to: index, raw, [alloc, zero bitmaps with extended L2,] host_offset, kind,
// flags, guest_offset, finding. Entries that are all zero are left out.
void render_l2_table(const Image& img, uint64_t l1_index, uint64_t table_offset, std::span<const uint8_t> table,
                     const FindingIndex* findings, TextSink& out);

}  // namespace qcow2
