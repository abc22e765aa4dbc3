// -m info: the header block, the snapshot list and the bitmap list; no table walk, so it works
// on images too damaged to walk.
#include <unistd.h>

#include <optional>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/report.h"
#include "cli/session.h"
#include "cli/snapshot_select.h"
#include "engine/check/layout.h"
#include "engine/render/header_text.h"
#include "engine/render/snapshot_text.h"

namespace qcow2::cli {

int run_info(const Options& opt) {
  std::unique_ptr<Image> img;
  if (auto code = open_image(opt, img)) return *code;
  // -s selects nothing here, but an unknown snapshot is a usage error in every mode.
  if (img->walkable()) {
    auto sel = select_l1_tables(*img, opt.snapshot);
    if (!sel.ok()) return fail(kExitUsage, sel.status().message());
  }
  FileSink out(stdout);
  const Style st(opt.color(::isatty(STDOUT_FILENO)));
  render_header(*img, st, out);
  // The snapshot list judges each L1 table as the check does, when the tables can be read.
  std::optional<Result<Layout>> layout;
  if (img->walkable()) layout.emplace(Layout::build(*img));
  render_snapshots(*img, st, out, layout && layout->ok() ? &layout->value() : nullptr);
  render_bitmaps(*img, st, out);
  return finish(out, image_verdict(*img));
}

}  // namespace qcow2::cli
