#include "fusefs/mount.h"

#include <csignal>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fusefs/fs.h"
#include "fusefs/ops.h"

namespace qcow2fs {
namespace {

// libfuse splits -o values at commas and reads backslashes as escapes.
std::string escape_option(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string mount_options(const Options& opt, const std::string& image_path) {
  std::vector<std::string> o = {"fsname=" + escape_option(image_path), "subtype=qcow2fs",
                                "default_permissions", "auto_unmount"};
  if (opt.read_only) o.push_back("ro");
  if (opt.allow_other) o.push_back("allow_other");
  for (const std::string& p : opt.passthrough) o.push_back(p);
  return fmt::format("{}", fmt::join(o, ","));
}

struct Session {
  fuse_session* se = nullptr;
  bool handlers = false;
  bool mounted = false;
  ~Session() {
    if (mounted) fuse_session_unmount(se);
    if (handlers) fuse_remove_signal_handlers(se);
    if (se) fuse_session_destroy(se);
  }
};

}  // namespace

int serve(const Options& opt, const MountConfig& config, std::shared_ptr<View> first) {
  const std::string options = mount_options(opt, first->tree.image().path());
  std::vector<std::string> args = {"qcow2fs", "-o", options};
  if (opt.debug) args.push_back("-d");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  Fs fs(std::move(first), config);
  int status = kExitOk;
  {
    Session s;
    s.se = fuse_session_new(&fargs, &operations(), sizeof(fuse_lowlevel_ops), &fs);
    if (!s.se) return fail(kExitUsage, "libfuse refused the mount options (its message is above)");
    if (fuse_set_signal_handlers(s.se) != 0) return fail(kExitMount, "cannot install signal handlers");
    s.handlers = true;
    if (fuse_session_mount(s.se, opt.mountpoint.c_str()) != 0)
      return fail(kExitMount, fmt::format("cannot mount on {} (libfuse's message is above)", opt.mountpoint));
    s.mounted = true;
    // After this the parent has exited 0: anything that can fail was checked before.
    if (fuse_daemonize(opt.foreground ? 1 : 0) != 0) return fail(kExitMount, "cannot daemonize");
    fs.start(s.se);

    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 16);
    const int rc = fuse_session_loop_mt(s.se, cfg);
    fuse_loop_cfg_destroy(cfg);
    // A signal (SIGTERM) ends the loop with the check perhaps still running: cancelled here,
    // and every parked request answered, while the session can still carry the replies.
    fs.stop(s.se);
    // The signal handlers leave the signal number as the loop's result: a clean stop.
    if (rc != 0 && rc != SIGINT && rc != SIGTERM && rc != SIGHUP) status = kExitMount;
  }
  fuse_opt_free_args(&fargs);
  return status;
}

}  // namespace qcow2fs
