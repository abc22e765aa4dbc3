#include "fusefs/check_state.h"

namespace qcow2fs {

CheckState::~CheckState() {
  if (thread_.joinable()) thread_.join();
}

void CheckState::start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
  }
  thread_ = std::thread([this] { run(); });
}

void CheckState::run() {
  qcow2::CheckOptions opts;
  opts.progress = [this](unsigned pct) { percent_.store(pct); };
  // Readers look at outcome_ only after seeing finished_ under the mutex, so it can be filled
  // in place first; in place, because the finding index refers to the findings vector itself.
  outcome_.result.emplace(qcow2::check_image(img_, opts));
  if (const qcow2::CheckResult* r = outcome_.ok())
    outcome_.findings = std::make_unique<qcow2::FindingIndex>(r->findings);
  outcome_.finished_at = std::time(nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  percent_.store(100);
  cv_.notify_all();
}

const CheckOutcome* CheckState::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_ ? &outcome_ : nullptr;
}

const CheckOutcome* CheckState::wait() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return finished_ || !started_; });
  return finished_ ? &outcome_ : nullptr;
}

}  // namespace qcow2fs
