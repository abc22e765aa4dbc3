// Mounting and serving: session, signal handlers, mount, daemonize, the mount's threads and
// the request loop, then a clean stop and unmount.
#pragma once

#include <memory>

#include "fusefs/fs.h"
#include "fusefs/options.h"
#include "fusefs/view.h"

namespace qcow2fs {

// Serves the image of `first` at opt.mountpoint until unmounted or signalled; returns the
// exit status.
int serve(const Options& opt, const MountConfig& config, std::shared_ptr<View> first);

}  // namespace qcow2fs
