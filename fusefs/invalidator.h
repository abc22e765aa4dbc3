// Tells the kernel to drop what it caches about a replaced view: the names of the inodes it
// holds (each now leads to a new inode) and the root's attributes and listing. From a thread
// of its own: a notification waits for the directory's lock, which a lookup in flight holds
// until it is answered, so sending one from a request handler can deadlock the mount.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fusefs/fuse.h"

namespace qcow2fs {

// One name to drop: `name` in the directory with inode `parent`.
struct StaleName {
  uint64_t parent = 0;
  std::string name;
};

class Invalidator {
 public:
  Invalidator() = default;
  ~Invalidator() { stop(nullptr); }
  Invalidator(const Invalidator&) = delete;
  Invalidator& operator=(const Invalidator&) = delete;

  // Starts the thread; call after fuse_daemonize, with the mounted session.
  void start(fuse_session* se);
  // Sends `names`, then refreshes the root, in the thread. Never blocks the caller. Returns a
  // ticket for sent().
  uint64_t send(std::vector<StaleName> names);
  // Waits up to `timeout` until the batch `ticket` names has been sent (or the thread stops);
  // whether it was. A request handler may wait here only when the request it answers holds no
  // directory lock (a write does not; a lookup, create or rename does): a notification waits
  // for the lock of the directory it is about.
  bool sent(uint64_t ticket, std::chrono::milliseconds timeout);
  // Joins the thread. After the request loop has ended nobody answers the requests that hold
  // the directory locks a notification waits for, so while it is busy this answers them itself
  // from `se` (the loop's session; null when it is no longer readable).
  void stop(fuse_session* se);

 private:
  // Owned with the thread too, so that a thread left stuck in the kernel at exit (see stop)
  // never touches freed memory.
  struct Shared {
    fuse_session* se = nullptr;
    std::mutex mu;
    std::condition_variable cv;
    std::condition_variable done_cv;  // a batch was sent
    uint64_t queued = 0;              // batches handed to send(), ever
    uint64_t done = 0;                // batches sent (or dropped at stop), ever
    std::deque<std::vector<StaleName>> queue;
    bool busy = false;
    std::atomic<bool> stopping{false};  // also read between notifications, without mu
  };

  static void run(const std::shared_ptr<Shared>& s);
  void answer_pending(fuse_session* se);

  std::shared_ptr<Shared> s_ = std::make_shared<Shared>();
  std::thread thread_;
};

}  // namespace qcow2fs
