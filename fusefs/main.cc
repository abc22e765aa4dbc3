// qcow2fs: mounts a qcow2 image's metadata as a tree of generated text files. See man/qcow2fs.1.
#include <malloc.h>
#include <sys/stat.h>

#include <exception>
#include <filesystem>

#include <fmt/format.h>

#include "fusefs/mount.h"
#include "fusefs/options.h"
#include "fusefs/view.h"

namespace {

using namespace qcow2fs;

int exit_code_for(const qcow2::Status& st) {
  switch (st.code()) {
    case qcow2::Code::kNotQcow2:
    case qcow2::Code::kNotSupported:
    case qcow2::Code::kCorruption: return kExitNotQcow2;
    default: return kExitCannotOpen;
  }
}

int run(int argc, char** argv) {
  Options opt;
  if (auto code = parse_options(argc, argv, opt)) return *code;

  struct stat st {};
  if (::stat(opt.mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(kExitUsage, fmt::format("{}: the mountpoint is not a directory", opt.mountpoint));

  // Absolute, so that backing and data files still resolve after fuse_daemonize's chdir("/").
  std::error_code ec;
  const std::string image = std::filesystem::absolute(opt.image, ec).lexically_normal().string();
  // Opened and validated before mounting: after fuse_daemonize the parent has already exited
  // and could no longer report a failure.
  CheckConfig check;
  check.skip_backing = opt.base;
  check.test_hold_path = opt.test_hold_check;
  check.test_fail = opt.test_fail_check;
  auto view = open_view(ec ? opt.image : image, 0, check, !opt.read_only);
  if (!view.ok()) return fail(exit_code_for(view.status()), view.status().message());
  // A VM writing the image changes its metadata while we read it: a mount would show tables
  // torn between two states, so it takes -U to ask for that.
  if (!(*view)->in_use.empty() && !opt.force_share)
    return fail(kExitInUse, fmt::format("{}: {}: its metadata may be torn; use -U (--force-share) to mount it anyway",
                                        opt.image, (*view)->in_use));
  MountConfig config;
  config.read_only = opt.read_only;
  config.force_share = opt.force_share;
  config.max_open_text = opt.max_open_text;
  config.check = check;
  config.test_hold_repair = opt.test_hold_repair;
  return serve(opt, config, std::move(view).value());
}

}  // namespace

int main(int argc, char** argv) {
  // Rendered files of a few MiB are made and dropped all the time (`ls -l l2/` renders every
  // table to measure it). Kept in the heap rather than mmap'd and unmapped each time, their
  // pages are reused instead of faulted in afresh, which otherwise dominates the time.
  // One arena: glibc's malloc_trim returns the free pages of the main arena only (in other
  // arenas it leaves the top of the heap alone), and the housekeeper (fusefs/housekeeper.h)
  // relies on it. Measured: no slower `cat` of every L2 file than four arenas, and an idle
  // mount after `grep -r` back at ~14 MB instead of ~130 MB.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_ARENA_MAX, 1);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return fail(70, e.what());
  }
}
