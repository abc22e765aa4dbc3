// -H, and the modes that are accepted but not implemented yet.
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

int run_not_implemented(const Options& opt) {
  return fail(kExitInternal, fmt::format("mode '{}' is not implemented yet", mode_name(opt.mode)));
}

}  // namespace qcow2::cli
