// Requests that need a check's result, parked instead of waiting in a worker thread: the
// handler keeps the fuse_req_t in a waiter of the view's check and returns, and the check's
// thread answers it when the check is done (the low-level API lets any thread reply). Sixteen
// `stat report.txt` during a long check therefore leave every worker free for `cat header`.
//
// Exactly one reply per request: the check's thread and an interrupt (the caller was killed or
// pressed Ctrl-C) both go through CheckState's waiter list, and only the one that takes the
// waiter from it answers; the other does nothing. An interrupted request is answered EINTR.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "fusefs/check_state.h"
#include "fusefs/fuse.h"

namespace qcow2fs {

class Parking {
 public:
  // Answers `req` for the finished check. Called once, from the check's thread or at once.
  using Answer = std::function<void(fuse_req_t req, const CheckOutcome& outcome)>;

  Parking() = default;
  Parking(const Parking&) = delete;
  Parking& operator=(const Parking&) = delete;

  // Calls `answer` now if `check` has finished, else once it has. A check cancelled before it
  // finished (the view was replaced, the mount ends) answers ESTALE (EINTR once stopping):
  // the kernel then looks the name up again and finds the new view.
  void when_checked(fuse_req_t req, CheckState& check, Answer answer);

  // From now on a cancelled check answers EINTR: the mount is going away.
  void stop() { stopping_.store(true); }

 private:
  struct Parked {
    CheckState* check;
    uint64_t waiter;
  };

  static void on_interrupt(fuse_req_t req, void* self);
  void interrupted(fuse_req_t req);
  // Forgets `req` (the check's thread is about to answer it).
  void forget(fuse_req_t req);
  void answer(fuse_req_t req, const CheckOutcome& outcome, const Answer& answer) const;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_map<fuse_req_t, Parked> parked_;
};

}  // namespace qcow2fs
