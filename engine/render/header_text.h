// The header block every qcow2-dump run begins with: the raw fields, the values derived from
// them, the feature bits by name, the extensions, the linked files and every header problem.
#pragma once

#include "engine/io/image.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Derived values appear only when the image is walkable, since Geometry is valid only then.
void render_header(const Image& img, const Style& st, TextSink& out);

// Bytes the file occupies on disk (st_blocks * 512): a sparse image shows how much is real.
uint64_t allocated_bytes(const ImageFile& f);

}  // namespace qcow2
