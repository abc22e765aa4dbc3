// `qcow2-dump -H`: where each header field sits, for hand-patching a header. Needs no image.
#pragma once

#include "engine/render/text_sink.h"

namespace qcow2 {

// One line per field: "name  offset: N (0xNN), size: S", in file order.
void render_header_layout(TextSink& out);

}  // namespace qcow2
