// The header extensions of cluster 0, each with its decoded content (unknown ones as hex).
#pragma once

#include "engine/format/extensions.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// "Header extensions: N" and one entry per extension, in file order.
void render_extensions(const Extensions& ext, const Style& st, TextSink& out);

}  // namespace qcow2
