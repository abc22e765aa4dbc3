// -m check (the default) and -m error: the consistency check. The exit code is the image's
// status (0 good … 6 corrupt), as the well-known tool gives it; tool failures stay at 64+.
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/exit_codes.h"
#include "cli/kmsg.h"
#include "cli/modes.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/session.h"
#include "cli/snapshot_select.h"
#include "engine/check/checker.h"
#include "engine/check/prealloc_layout.h"
#include "engine/render/check_json.h"
#include "engine/render/check_text.h"
#include "engine/render/header_text.h"
#include "engine/util/escape.h"

namespace qcow2::cli {
namespace {

// What -K logs: the image, its state and the counts a monitor would alert on.
std::string summary_line(const Image& img, const CheckResult& r) {
  // Absolute: the log is read far from the directory the check ran in.
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(img.path(), ec);
  return fmt::format("{}: {} (exit {}): corruptions: {}, leaks: {}, findings: {}",
                     escape_text(ec ? img.path() : abs.lexically_normal().string()),
                     status_word(r.status), exit_code(r.status), corruption_count(r), r.stats.leaks,
                     r.findings.size());
}

}  // namespace

int run_check(const Options& opt) {
  std::unique_ptr<Image> img;
  if (auto code = open_image(opt, img)) return *code;
  if (img->walkable()) {
    auto sel = select_l1_tables(*img, opt.snapshot);
    if (!sel.ok()) return fail(kExitUsage, sel.status().message());
  }
  CheckOptions co;
  co.skip_backing = opt.base;
  uint64_t table_bytes = 0;
  ProgressLine progress(!opt.quiet && ::isatty(STDERR_FILENO));
  co.progress = progress.callback(&table_bytes);
  co.table_bytes = &table_bytes;
  auto result = check_image(*img, co);
  std::optional<Result<PreallocReport>> prealloc;
  if (result.ok() && opt.prealloc && !opt.json() && result->layout)
    prealloc.emplace(check_prealloc_layout(*img, *result->layout, kMaxFindingsPerCode));
  progress.erase();  // before anything else is printed
  if (!result.ok()) return fail(exit_code_for(result.status()), result.status().message());
  if (prealloc && !prealloc->ok()) return fail(exit_code_for(prealloc->status()), prealloc->status().message());

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
    if (prealloc) to.prealloc = &prealloc->value();
    render_check(*img, *result, to, st, out);
  }
  const int written = finish(out, {});
  if (opt.dmesg) log_to_kmsg(summary_line(*img, *result));
  return written != kExitOk ? written : exit_code(result->status);
}

}  // namespace qcow2::cli
