#include "fusefs/check_state.h"

#include <sys/resource.h>
#include <unistd.h>

namespace qcow2fs {
namespace {

// The check is background work: requests (`cat header` right after the mount) go first. A
// nice value is per thread on Linux and inherited by the threads the check starts (its
// read-ahead). It still gets every idle core, so an idle machine checks as fast as before.
// 10 rather than 19: measured no slower for `cat header`, and a busy machine still lets the
// check progress (report.txt waits for it).
constexpr int kCheckNice = 10;
constexpr std::chrono::milliseconds kStartDelay{50};

}  // namespace

CheckState::~CheckState() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;  // only a check that has not begun yet: a running one is waited for
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
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

void CheckState::run() {
  // A failure leaves the normal priority: slower requests while it runs, nothing worse.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kCheckNice);
  {
    // Stays out of the way of the mount's first requests (measured: a running check makes the
    // first `cat header` some 7 ms slower even at the lowest priority), unless a file waits.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kStartDelay, [this] { return wanted_ || cancelled_; });
    if (cancelled_) return;
  }
  qcow2::CheckOptions opts;
  opts.progress = [this](unsigned pct) { percent_.store(pct); };
  // Readers look at outcome_ only after seeing finished_ under the mutex, so it can be filled
  // in place first; in place, because the finding index refers to the findings vector itself.
  outcome_.result.emplace(qcow2::check_image(img_, opts));
  if (const qcow2::CheckResult* r = outcome_.ok())
    outcome_.findings = std::make_unique<qcow2::FindingIndex>(r->findings);
  outcome_.finished_at = std::time(nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    percent_.store(100);
    cv_.notify_all();
  }
  if (on_finish_) on_finish_();
}

const CheckOutcome* CheckState::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_ ? &outcome_ : nullptr;
}

const CheckOutcome* CheckState::wait() const {
  std::unique_lock<std::mutex> lock(mu_);
  wanted_ = true;
  cv_.notify_all();
  cv_.wait(lock, [this] { return finished_ || !started_; });
  return finished_ ? &outcome_ : nullptr;
}

}  // namespace qcow2fs
