#include "cli/session.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/exit_codes.h"
#include "cli/report.h"
#include "engine/io/image_writer.h"
#include "engine/io/page_cache.h"
#include "engine/io/qemu_locks.h"
#include "engine/util/escape.h"

namespace qcow2::cli {
namespace {

int rank(int code) {
  switch (code) {
    case kExitHeader: return 2;
    case kExitSnapshotTable: return 1;
    default: return code == kExitOk ? 0 : 3;  // tool failures outrank the image's state
  }
}

}  // namespace

void Verdict::merge(Verdict other) {
  if (rank(other.code) > rank(code)) *this = std::move(other);
}

std::optional<int> open_image(const Options& opt, std::unique_ptr<Image>& img) {
  if (opt.nocache) {
    // Before the first read, so that not even the header comes from a stale cache.
    if (Status st = drop_page_cache(opt.image); !st.ok()) return fail(exit_code_for(st), st.message());
  }
  auto opened = Image::open(opt.image);
  if (!opened.ok()) return fail(exit_code_for(opened.status()), opened.status().message());
  img = std::move(opened).value();
  // A VM writing the image changes it while we read: say so before anything else.
  auto locks = probe_qemu_locks(img->file());
  if (locks.ok() && locks->in_use()) {
    const std::string who = fmt::format("{}: {}", escape_text(img->path()), locks->describe());
    if (!opt.force_share)
      return fail(kExitInUse, who + ": its metadata may be torn; use -U (--force-share) to inspect it anyway");
    std::fflush(stdout);
    fmt::print(stderr, "qcow2-dump: warning: {}: what follows may be torn\n", who);
  }
  if (opt.lock && !opt.force_share) {
    // -l: held until the process ends, so that no VM starts writing while we read.
    static std::optional<ImageWriter> held;
    auto w = ImageWriter::open(opt.image, ImageWriter::Access::kReadOnly);
    if (!w.ok()) return fail(w.status().code() == Code::kBusy ? kExitInUse : exit_code_for(w.status()), w.status().message());
    held.emplace(std::move(w).value());
  }
  return std::nullopt;
}

Verdict image_verdict(const Image& img) {
  // The first fatal problem is what stops a walk; name it before mere errors.
  const HeaderProblem* worst = nullptr;
  for (const HeaderProblem& p : img.problems()) {
    if (p.severity < Severity::kError) continue;
    if (!worst || p.severity > worst->severity) worst = &p;
  }
  if (worst) return {kExitHeader, fmt::format("{}: {}", img.path(), worst->message)};
  if (!img.snapshots().ok())
    return {kExitSnapshotTable,
            fmt::format("{}: snapshot table is damaged: {}", img.path(), img.snapshots().error)};
  return {};
}

int finish(FileSink& out, const Verdict& v) {
  if (std::fflush(stdout) != 0 || !out.ok() || std::ferror(stdout))
    return fail(kExitInternal, fmt::format("cannot write to standard output: {}", std::strerror(errno)));
  if (v.code != kExitOk) return fail(v.code, v.message);
  return kExitOk;
}

}  // namespace qcow2::cli
