#include "fusefs/check_state.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <stdexcept>

namespace qcow2fs {
namespace {

// The check is background work: requests (`cat header` right after the mount) go first. A
// nice value is per thread on Linux and inherited by the threads the check starts (its
// read-ahead). It still gets every idle core, so an idle machine checks as fast as before.
// 10 rather than 19: measured no slower for `cat header`, and a busy machine still lets the
// check progress (report.txt waits for it).
constexpr int kCheckNice = 10;
constexpr std::chrono::milliseconds kStartDelay{50};
constexpr unsigned kTestHookPercent = 50;  // after the reference walk, before the refcount pass

}  // namespace

CheckState::~CheckState() {
  cancel();
  if (thread_.joinable()) thread_.join();
  // Never started (the mount failed before): nobody else will answer the waiters.
  std::unique_lock<std::mutex> lock(mu_);
  if (finished_) return;
  lock.unlock();
  outcome_.result.emplace(qcow2::Status::Cancelled("the check never started"));
  publish();
}

void CheckState::start(std::function<void()> on_finish) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
  }
  on_finish_ = std::move(on_finish);
  thread_ = std::thread([this] { run(); });
}

void CheckState::cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_.store(true);
  }
  cv_.notify_all();
}

void CheckState::run() {
  // A failure leaves the normal priority: slower requests while it runs, nothing worse.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kCheckNice);
  bool cancelled = false;
  {
    // Stays out of the way of the mount's first requests (measured: a running check makes the
    // first `cat header` some 7 ms slower even at the lowest priority), unless a request waits.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kStartDelay, [this] { return wanted_ || cancel_.load(); });
    cancelled = cancel_.load();
  }
  if (cancelled)
    outcome_.result.emplace(qcow2::Status::Cancelled("the mount ended before the check began"));
  else
    check_now();
  publish();
  // The exception boundary of this thread: whatever the owner does when the check is over
  // must not take the mount down with it.
  try {
    if (on_finish_) on_finish_();
  } catch (...) {
  }
}

// Fills outcome_. An exception (an allocation failure on a huge image) becomes a failed
// outcome that status and the reports show, rather than an abort that ends the mount.
void CheckState::check_now() {
  qcow2::CheckOptions opts;
  opts.skip_backing = config_.skip_backing;
  opts.cancel = &cancel_;
  opts.progress = [this](unsigned pct) {
    percent_.store(pct);
    if (pct != kTestHookPercent) return;
    if (config_.test_fail) throw std::runtime_error("test_fail_check: thrown on purpose halfway");
    pause_for_test_hook();
  };
  try {
    // Readers look at outcome_ only after seeing finished_ under the mutex, so it can be filled
    // in place first; in place, because the finding index refers to the findings vector itself.
    outcome_.result.emplace(qcow2::check_image(img_, opts));
    if (const qcow2::CheckResult* r = outcome_.ok())
      outcome_.findings = std::make_unique<qcow2::FindingIndex>(r->findings);
  } catch (const std::exception& e) {
    outcome_.findings.reset();
    outcome_.result.emplace(qcow2::Status::IOError(fmt::format("internal error: {}", e.what())));
    outcome_.internal_error = true;
  } catch (...) {
    outcome_.findings.reset();
    outcome_.result.emplace(qcow2::Status::IOError("internal error: an unknown exception"));
    outcome_.internal_error = true;
  }
}

void CheckState::pause_for_test_hook() const {
  if (config_.test_hold_path.empty()) return;
  while (!cancel_.load() && access(config_.test_hold_path.c_str(), F_OK) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void CheckState::publish() {
  outcome_.finished_at = std::time(nullptr);
  std::vector<std::pair<uint64_t, Waiter>> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    percent_.store(100);
    waiters.swap(waiters_);
  }
  for (auto& [id, w] : waiters) {
    try {
      w(outcome_);
    } catch (...) {
      // A waiter answers its own request and catches its own errors; nothing is left to do.
    }
  }
}

const CheckOutcome* CheckState::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_ ? &outcome_ : nullptr;
}

uint64_t CheckState::add_waiter(Waiter w) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return 0;
    wanted_ = true;
    id = next_waiter_++;
    waiters_.emplace_back(id, std::move(w));
  }
  cv_.notify_all();
  return id;
}

bool CheckState::remove_waiter(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (it->first != id) continue;
    waiters_.erase(it);
    return true;
  }
  return false;
}

}  // namespace qcow2fs
