// -H: the header layout, which needs no image.
#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/report.h"
#include "cli/session.h"
#include "engine/render/header_layout_text.h"

namespace qcow2::cli {

int run_header_layout() {
  FileSink out(stdout);
  render_header_layout(out);
  return finish(out, {});
}

}  // namespace qcow2::cli
