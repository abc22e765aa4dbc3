// The consistency check of one view of the image, run in a background thread started with the
// view (a little after, at low priority), so `cat header` answers at once while `status` shows
// the progress. Requests that need the result (report.txt, report.json, clusters) do not wait
// for it in a thread: they leave a waiter (parking.h) that the check's thread calls when it is
// done. Files that can show something without it (l2 findings, refcount `computed` columns)
// show what they can until it is there.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/check/checker.h"
#include "engine/render/finding_index.h"

namespace qcow2fs {

// How a view's check is run: the user's options and two hooks for the mount tests.
struct CheckConfig {
  bool skip_backing = false;  // -b: a missing backing file is not a finding
  // Test hooks (-o test_hold_check=PATH, -o test_fail_check): the check pauses halfway until
  // PATH exists (or it is cancelled), or throws there, as an allocation failure would.
  std::string test_hold_path;
  bool test_fail = false;
};

// What the check produced: a result, or the error that stopped it.
struct CheckOutcome {
  std::optional<qcow2::Result<qcow2::CheckResult>> result;
  std::unique_ptr<qcow2::FindingIndex> findings;  // set when result is ok
  std::time_t finished_at = 0;
  bool internal_error = false;  // an exception stopped it (result says which)

  const qcow2::CheckResult* ok() const { return result && result->ok() ? &result->value() : nullptr; }
  // Stopped because the mount ended or the view was replaced: nobody will see this outcome.
  bool cancelled() const {
    return result && !result->ok() && result->status().code() == qcow2::Code::kCancelled;
  }
};

class CheckState {
 public:
  using Waiter = std::function<void(const CheckOutcome&)>;

  CheckState(const qcow2::Image& img, CheckConfig config) : img_(img), config_(std::move(config)) {}
  // Cancels and joins the check (it reads the image the owner is about to close); waiters still
  // waiting are called with a cancelled outcome.
  ~CheckState();
  CheckState(const CheckState&) = delete;
  CheckState& operator=(const CheckState&) = delete;

  // Starts the check thread; call once, after fuse_daemonize (threads do not survive a fork).
  // `on_finish` runs in that thread once the outcome is published and the waiters are called.
  void start(std::function<void()> on_finish = {});
  // Asks the check to stop soon (between tables); its outcome is then cancelled().
  void cancel();

  unsigned percent() const { return percent_.load(); }
  // The outcome once the check has finished, else null. Never changes after it is set.
  const CheckOutcome* done() const;

  // Keeps `w` to be called with the outcome from the check's thread, and returns its id; or,
  // when the check has already finished, returns 0 without keeping it (use done()). A waiting
  // request makes the check begin at once rather than after its start delay.
  uint64_t add_waiter(Waiter w);
  // Drops waiter `id`; false when it has already been (or is being) called.
  bool remove_waiter(uint64_t id);

 private:
  void run();
  void check_now();
  void pause_for_test_hook() const;
  void publish();  // marks finished and calls the waiters; outcome_ must be filled in

  const qcow2::Image& img_;
  const CheckConfig config_;
  std::function<void()> on_finish_;
  std::thread thread_;
  std::atomic<unsigned> percent_{0};
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool wanted_ = false;    // a request waits: begin now rather than after the delay
  bool finished_ = false;
  uint64_t next_waiter_ = 1;
  std::vector<std::pair<uint64_t, Waiter>> waiters_;
  CheckOutcome outcome_;
};

}  // namespace qcow2fs
