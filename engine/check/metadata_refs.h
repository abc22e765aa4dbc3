// References rooted in the header, from the layout: the header cluster, the encryption
// header, the snapshot table and snapshot L1 tables, the refcount table and blocks, the bitmap
// directory, tables and data; and the findings about them.
#pragma once

#include "engine/check/layout.h"
#include "engine/check/reference.h"
#include "engine/check/stats.h"
#include "engine/io/image.h"

namespace qcow2 {

void reference_header_metadata(const Image& img, const Layout& layout, ReferenceSink& sink, CheckStats* stats);

void reference_bitmaps(const Image& img, const Layout& layout, ReferenceSink& sink);

}  // namespace qcow2
