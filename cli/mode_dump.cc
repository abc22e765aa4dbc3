// -m dump: the info block, then every entry of the selected L1/L2 tables and of the refcount
// structures, streamed to stdout.
#include <fmt/format.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/report.h"
#include "cli/session.h"
#include "cli/snapshot_select.h"
#include "engine/render/dump_text.h"
#include "engine/render/header_text.h"
#include "engine/render/snapshot_text.h"

namespace qcow2::cli {
namespace {

// A read failure in the middle of a dump: the file went away or the disk failed.
Verdict read_failure(const Image& img, const Status& st) {
  return {st.code() == Code::kIOError ? kExitCannotOpen : kExitInternal,
          fmt::format("{}: {}", img.path(), st.message())};
}

}  // namespace

int run_dump(const Options& opt) {
  std::unique_ptr<Image> img;
  if (auto code = open_image(opt, img)) return *code;
  std::vector<L1Target> targets;
  if (img->walkable()) {
    auto sel = select_l1_tables(*img, opt.snapshot);
    if (!sel.ok()) return fail(kExitUsage, sel.status().message());
    targets = std::move(sel).value();
  }
  FileSink out(stdout);
  const Style st(opt.color(::isatty(STDOUT_FILENO)));
  render_header(*img, st, out);
  if (!img->walkable()) {
    std::fflush(stdout);
    return fail(kExitHeader, fmt::format("{}: {}", img->path(), img->walk_status().message()));
  }
  render_snapshots(*img, st, out);
  render_bitmaps(*img, st, out);

  Verdict verdict = image_verdict(*img);
  const DumpOptions dopt{opt.flags};
  if (opt.print_tables()) {
    for (const L1Target& t : targets) {
      out.write("\n");
      Status s = render_l1_dump(*img, t.title, t.offset, t.entries, dopt, st, out);
      if (s.ok()) continue;
      // A snapshot whose L1 table cannot be read is a damaged snapshot table entry.
      if (t.snapshot && s.code() != Code::kIOError)
        verdict.merge({kExitSnapshotTable, fmt::format("{}: {}: {}", img->path(), t.title, s.message())});
      else
        return finish(out, read_failure(*img, s));
    }
  }
  if (opt.print_refcounts()) {
    out.write("\n");
    Status s = render_refcount_dump(*img, dopt, st, out);
    if (!s.ok()) return finish(out, read_failure(*img, s));
  }
  return finish(out, verdict);
}

}  // namespace qcow2::cli
