// The one consistency check of a mount, run in a background thread started at mount time (a
// little after, at low priority), so `cat header` answers at once while `status` shows the
// progress. Files that need the result either wait for it (report.txt, report.json, clusters)
// or show what they can without it (l2 findings, refcount `computed` columns) until it is there.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/check/checker.h"
#include "engine/render/finding_index.h"

namespace qcow2fs {

// What the check produced: a result, or the I/O error that stopped it.
struct CheckOutcome {
  std::optional<qcow2::Result<qcow2::CheckResult>> result;
  std::unique_ptr<qcow2::FindingIndex> findings;  // set when result is ok
  std::time_t finished_at = 0;

  const qcow2::CheckResult* ok() const { return result && result->ok() ? &result->value() : nullptr; }
};

class CheckState {
 public:
  explicit CheckState(const qcow2::Image& img) : img_(img) {}
  ~CheckState();  // waits for a running check: it reads the image the owner is about to close
  CheckState(const CheckState&) = delete;
  CheckState& operator=(const CheckState&) = delete;

  // Starts the check thread; call once, after fuse_daemonize (threads do not survive a fork).
  // `on_finish` runs in that thread once the outcome is published.
  void start(std::function<void()> on_finish = {});

  unsigned percent() const { return percent_.load(); }
  // The outcome once the check has finished, else null. Never changes after it is set.
  const CheckOutcome* done() const;
  // Blocks until the check has finished (returns at once if it never started).
  const CheckOutcome* wait() const;

 private:
  void run();

  const qcow2::Image& img_;
  std::function<void()> on_finish_;
  std::thread thread_;
  std::atomic<unsigned> percent_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool started_ = false;
  mutable bool wanted_ = false;  // a reader waits: begin now rather than after the delay
  bool cancelled_ = false;       // the mount ends before the check began
  bool finished_ = false;
  CheckOutcome outcome_;
};

}  // namespace qcow2fs
