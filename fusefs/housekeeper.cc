#include "fusefs/housekeeper.h"

namespace qcow2fs {

void Housekeeper::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void Housekeeper::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Housekeeper::poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

// The exception boundary of this thread: a failed tick or trim is skipped, the mount goes on.
void Housekeeper::call(const std::function<void()>& f) {
  try {
    if (f) f();
  } catch (...) {
  }
}

// Wakes once per `period_` (or when poked): a period with no new activity and no request
// running is quiet. `dirty` starts true so that what mounting itself left behind is trimmed too.
void Housekeeper::run() {
  uint64_t seen = activity_.load(std::memory_order_relaxed);
  bool dirty = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const bool poked = cv_.wait_for(lock, period_, [this] { return stopping_ || poked_; });
    if (stopping_) return;
    poked_ = false;
    lock.unlock();
    call(on_tick_);
    lock.lock();
    if (poked) continue;  // an early tick: the quiet period is still running
    const uint64_t now = activity_.load(std::memory_order_relaxed);
    if (now != seen || in_flight_.load(std::memory_order_relaxed) > 0) {
      seen = now;
      dirty = true;
      continue;
    }
    if (!dirty) continue;
    dirty = false;
    lock.unlock();
    call(on_idle_);
    lock.lock();
  }
}

}  // namespace qcow2fs
