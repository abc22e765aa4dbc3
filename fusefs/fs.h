// The state of one mount, shared by every FUSE operation: the current view of the image, the
// idle trimmer, open handles and the mount's options. Reached from a request through
// fuse_req_userdata.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>

#include "fusefs/idle_trim.h"
#include "fusefs/open_files.h"
#include "fusefs/view.h"

namespace qcow2fs {

// How the mount was asked to behave.
struct MountConfig {
  bool read_only = true;
  CheckConfig check;
};

class Fs {
 public:
  Fs(std::shared_ptr<View> first, const MountConfig& config);
  ~Fs();
  Fs(const Fs&) = delete;
  Fs& operator=(const Fs&) = delete;

  // Starts the idle trimmer and the first check; call after fuse_daemonize.
  void start();

  // The view requests answer from now.
  std::shared_ptr<View> view() const;
  uint32_t generation() const { return generation_.load(); }

  const MountConfig config;
  const std::time_t mount_time;
  const uid_t uid;
  const gid_t gid;
  IdleTrim idle;
  OpenFiles open_files;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<View> view_;
  std::atomic<uint32_t> generation_{0};
};

}  // namespace qcow2fs
