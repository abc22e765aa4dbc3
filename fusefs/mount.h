// Mounting and serving: session, signal handlers, mount, daemonize, the background check and
// the request loop, then a clean unmount.
#pragma once

#include <memory>

#include "engine/io/image.h"
#include "fusefs/options.h"

namespace qcow2fs {

// Serves `img` at opt.mountpoint until unmounted or signalled; returns the exit status.
int serve(const Options& opt, std::unique_ptr<qcow2::Image> img);

}  // namespace qcow2fs
