// The state of one mount, shared by every FUSE operation: the current view of the image, the
// threads that keep it fresh (housekeeper, invalidator), parked requests, open handles and the
// mount's options. Reached from a request through fuse_req_userdata.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "fusefs/control.h"
#include "fusefs/housekeeper.h"
#include "fusefs/invalidator.h"
#include "fusefs/known_inodes.h"
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
  // Test hook (-o test_hold_repair=PATH): a command, once running, waits until PATH exists.
  std::string test_hold_repair;
};

// The last change the mount noticed in the image.
struct ImageChange {
  std::time_t at = 0;      // 0: none since the mount
  bool reopening = false;  // noticed; the new view is not made yet
  std::string error;       // why the image could not be opened again ("" when it could)
};

class Fs {
 public:
  Fs(std::shared_ptr<View> first, const MountConfig& config);
  ~Fs();
  Fs(const Fs&) = delete;
  Fs& operator=(const Fs&) = delete;

  // Starts the threads and the first check; call after fuse_daemonize, with the session.
  void start(fuse_session* se);
  // After the request loop: cancels the check, answers parked requests, joins the threads.
  void stop(fuse_session* se);

  // The view requests answer from now.
  std::shared_ptr<View> view() const;

  // Opens the image again and serves that from now on: swaps the view, cancels the old check,
  // and has the kernel drop the names it caches (from the invalidator's thread). For a changed
  // image, and for the mount's own repairs. `settle`: return only once the kernel has dropped
  // them (at most a few seconds), so that the caller's next path lookup finds the new state;
  // only from a thread that holds no directory lock of the mount (the housekeeper, or the
  // handler of a write: Invalidator::sent).
  qcow2::Status reopen(bool settle = false);

  // Compares the image with the current view's stamp; on a difference records it and has the
  // housekeeper re-open it soon. Cheap (a stat and a 4 KiB read): `status` calls it.
  void notice_change();
  ImageChange change() const;

  // Around a command of ctl/ (control.h): meanwhile the image's changes are the command's own,
  // not someone else's, and are not noticed (a view of a half-written image is of no use);
  // the command re-opens the image itself when it is done.
  void begin_repair() { repairing_.fetch_add(1); }
  void end_repair() { repairing_.fetch_sub(1); }

  // Whether the request loop is ending (a signal, an unmount): a request that waits on its
  // own (the test hook of control.h) gives up, since the loop joins its thread before stop().
  bool ending() const {
    fuse_session* se = session_.load();
    return se && fuse_session_exited(se);
  }

  const MountConfig config;
  const std::time_t mount_time;
  const uid_t uid;
  const gid_t gid;
  Housekeeper housekeeper;
  Parking parking;  // before the view: the view's check answers parked requests as it ends
  OpenFiles open_files;
  KnownInodes known;
  Control control;

 private:
  void tick();
  // Returns the invalidator's ticket for the names it dropped.
  uint64_t install(std::shared_ptr<View> next);
  uint32_t next_generation() const;

  Invalidator invalidator_;
  mutable std::mutex mu_;
  std::shared_ptr<View> view_;
  std::atomic<uint32_t> generation_{0};  // view_'s, readable without mu_
  std::atomic<int> repairing_{0};
  std::atomic<fuse_session*> session_{nullptr};  // from start() on
  ImageChange change_;
  std::optional<qcow2::ImageStamp> last_noticed_;  // the image as the last notice_change saw it
  std::mutex reopen_mu_;  // one re-open at a time
};

}  // namespace qcow2fs
