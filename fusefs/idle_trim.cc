#include "fusefs/idle_trim.h"

namespace qcow2fs {

void IdleTrim::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void IdleTrim::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Wakes once per `quiet_`: a period with no new activity and no request running is quiet.
// `dirty` starts true so that what mounting itself left behind is trimmed too.
void IdleTrim::run() {
  uint64_t seen = activity_.load(std::memory_order_relaxed);
  bool dirty = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, quiet_, [this] { return stopping_; })) {
    const uint64_t now = activity_.load(std::memory_order_relaxed);
    if (now != seen || in_flight_.load(std::memory_order_relaxed) > 0) {
      seen = now;
      dirty = true;
      continue;
    }
    if (!dirty) continue;
    dirty = false;
    lock.unlock();
    on_idle_();
    lock.lock();
  }
}

}  // namespace qcow2fs
