// -m check (the default) and -m error: the consistency check. The exit code is the image's
// status (0 good … 6 corrupt), as the well-known tool gives it; tool failures stay at 64+.
#include <unistd.h>

#include <cstdio>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/report.h"
#include "cli/session.h"
#include "cli/snapshot_select.h"
#include "engine/check/checker.h"
#include "engine/render/check_json.h"
#include "engine/render/check_text.h"
#include "engine/render/header_text.h"

namespace qcow2::cli {

int run_check(const Options& opt) {
  std::unique_ptr<Image> img;
  if (auto code = open_image(opt, img)) return *code;
  if (img->walkable()) {
    auto sel = select_l1_tables(*img, opt.snapshot);
    if (!sel.ok()) return fail(kExitUsage, sel.status().message());
  }
  CheckOptions co;
  co.skip_backing = opt.base;
  auto result = check_image(*img, co);
  if (!result.ok()) return fail(exit_code_for(result.status()), result.status().message());

  FileSink out(stdout);
  if (opt.json()) {
    out.write(json_text(check_to_json(*img, *result), 4));
    out.write("\n");
  } else {
    const Style st(opt.color(::isatty(STDOUT_FILENO)));
    render_header(*img, st, out);
    CheckTextOptions to;
    to.errors = opt.mode == Mode::kError;
    to.show_refcount = opt.print_refcounts();
    to.show_snapshot = opt.print_tables();
    render_check(*img, *result, to, st, out);
  }
  const int written = finish(out, {});
  return written != kExitOk ? written : exit_code(result->status);
}

}  // namespace qcow2::cli
