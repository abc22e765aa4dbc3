// The state of one mount, shared by every FUSE operation: the current view of the image, the
// idle trimmer, parked requests, open handles and the mount's options. Reached from a request through
// fuse_req_userdata.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>

#include "fusefs/idle_trim.h"
#include "fusefs/open_files.h"
#include "fusefs/parking.h"
#include "fusefs/view.h"

namespace qcow2fs {

// How the mount was asked to behave.
struct MountConfig {
  bool read_only = true;
  bool force_share = false;  // -U: mounted although a writer held QEMU's lock
  size_t max_open_text = 512u << 20;
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
  // After the request loop: cancels the check and answers what is parked on it, while the
  // session can still carry the replies.
  void stop();

  // The view requests answer from now.
  std::shared_ptr<View> view() const;
  uint32_t generation() const { return generation_.load(); }

  const MountConfig config;
  const std::time_t mount_time;
  const uid_t uid;
  const gid_t gid;
  IdleTrim idle;
  Parking parking;  // before the view: the view's check answers parked requests as it ends
  OpenFiles open_files;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<View> view_;
  std::atomic<uint32_t> generation_{0};
};

}  // namespace qcow2fs
