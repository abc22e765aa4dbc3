// The header block every qcow2-dump run begins with: the raw fields, the values derived from
// them, the feature bits by name, the extensions, the linked files and every header problem.
#pragma once

#include "engine/io/image.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Derived values appear only when the image is walkable, since Geometry is valid only then.
void render_header(const Image& img, const Style& st, TextSink& out);

}  // namespace qcow2
