// The internal snapshot list and the persistent bitmap list, as far as they parse.
#pragma once

#include "engine/check/layout.h"
#include "engine/io/image.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Every parsed snapshot entry, then (when parsing stopped early) one line naming the first bad
// entry, why, and the last good one. A snapshot whose L1 table cannot be read says why: the
// layout's verdict when one is given (it knows cross-links), else the pointer rule.
void render_snapshots(const Image& img, const Style& st, TextSink& out, const Layout* layout = nullptr);

// Every bitmap of the bitmap directory, then its error if it did not parse completely.
// Prints nothing when the image has no bitmaps extension.
void render_bitmaps(const Image& img, const Style& st, TextSink& out);

// "2024-05-01 10:00:00" (UTC) and "01:02:03.456", as the snapshot list shows them.
std::string snapshot_date(uint32_t sec);
std::string snapshot_vm_clock(uint64_t nsec);

}  // namespace qcow2
