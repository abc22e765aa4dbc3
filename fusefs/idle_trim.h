// Gives memory back once the mount goes quiet. Rendering keeps freed memory in the heap on
// purpose (main.cc: reused pages are much cheaper than fresh ones while files are being read),
// and the render cache keeps recent text; after a full `grep -r` that is 150+ MB held by a
// mount nobody is using. When no request has run for a while, `on_idle` (drop the cache, trim
// the heap) runs once, from a thread of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace qcow2fs {

class IdleTrim {
 public:
  IdleTrim(std::chrono::milliseconds quiet, std::function<void()> on_idle)
      : quiet_(quiet), on_idle_(std::move(on_idle)) {}
  ~IdleTrim() { stop(); }
  IdleTrim(const IdleTrim&) = delete;
  IdleTrim& operator=(const IdleTrim&) = delete;

  // Starts the thread; call after fuse_daemonize (threads do not survive a fork).
  void start();
  // Joins the thread; `on_idle` does not run after this returns.
  void stop();

  // Something made garbage (a request, the check finishing): trim once the mount is quiet.
  void touch() { activity_.fetch_add(1, std::memory_order_relaxed); }

  // Marks one request as running, for its lifetime: no trim while one is.
  class Busy {
   public:
    explicit Busy(IdleTrim& t) : t_(t) {
      t_.in_flight_.fetch_add(1, std::memory_order_relaxed);
      t_.touch();
    }
    ~Busy() { t_.in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    IdleTrim& t_;
  };

 private:
  void run();

  const std::chrono::milliseconds quiet_;
  const std::function<void()> on_idle_;
  std::atomic<uint64_t> activity_{0};
  std::atomic<int> in_flight_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace qcow2fs
