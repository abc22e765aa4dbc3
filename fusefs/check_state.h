// The consistency check of one view of the image, run in a background thread started with the
// view (a little after, at low priority), so `cat header` answers at once while `status` shows
// the progress. Files that need the result either wait for it (report.txt, report.json,
// clusters) or show what they can without it (l2 findings, refcount `computed` columns) until
// it is there.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

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
  // Stopped because the mount ended: nobody will see this outcome.
  bool cancelled() const {
    return result && !result->ok() && result->status().code() == qcow2::Code::kCancelled;
  }
};

class CheckState {
 public:
  CheckState(const qcow2::Image& img, CheckConfig config) : img_(img), config_(std::move(config)) {}
  // Cancels and joins the check: it reads the image the owner is about to close.
  ~CheckState();
  CheckState(const CheckState&) = delete;
  CheckState& operator=(const CheckState&) = delete;

  // Starts the check thread; call once, after fuse_daemonize (threads do not survive a fork).
  // `on_finish` runs in that thread once the outcome is published.
  void start(std::function<void()> on_finish = {});
  // Asks the check to stop soon (between tables); its outcome is then cancelled().
  void cancel();

  unsigned percent() const { return percent_.load(); }
  // The outcome once the check has finished, else null. Never changes after it is set.
  const CheckOutcome* done() const;
  // Blocks until the check has finished (returns at once if it never started).
  const CheckOutcome* wait() const;

 private:
  void run();
  void check_now();
  void pause_for_test_hook() const;
  void publish();  // marks finished; outcome_ must be filled in

  const qcow2::Image& img_;
  const CheckConfig config_;
  std::function<void()> on_finish_;
  std::thread thread_;
  std::atomic<unsigned> percent_{0};
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool started_ = false;
  mutable bool wanted_ = false;  // a reader waits: begin now rather than after the delay
  bool finished_ = false;
  CheckOutcome outcome_;
};

}  // namespace qcow2fs
