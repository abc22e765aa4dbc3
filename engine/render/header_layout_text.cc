#include "engine/render/header_layout_text.h"

#include "engine/format/header.h"

namespace qcow2 {

void render_header_layout(TextSink& out) {
  out.print("qcow2 header layout (big-endian fields; version 3 fields from offset 72):\n");
  for (const HeaderField& f : header_layout())
    out.print("{:<28}offset: {:3} (0x{:02x}), size: {}\n", f.name, f.offset, f.offset, f.size);
}

}  // namespace qcow2
