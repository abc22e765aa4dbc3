// The mount's one periodic thread. Once a second it runs `on_tick` (notice that the image
// changed and re-open it: fs.h), and once the mount goes quiet `on_idle` (give memory back).
//
// Memory: rendering keeps freed memory in the heap on purpose (main.cc: reused pages are much
// cheaper than fresh ones while files are being read), and the render cache keeps recent text;
// after a full `grep -r` that is 150+ MB held by a mount nobody is using. When no request has
// run for a while, `on_idle` (drop the cache, trim the heap) runs once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace qcow2fs {

class Housekeeper {
 public:
  Housekeeper(std::chrono::milliseconds period, std::function<void()> on_tick, std::function<void()> on_idle)
      : period_(period), on_tick_(std::move(on_tick)), on_idle_(std::move(on_idle)) {}
  ~Housekeeper() { stop(); }
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  // Starts the thread; call after fuse_daemonize (threads do not survive a fork).
  void start();
  // Joins the thread; neither callback runs after this returns.
  void stop();

  // Runs the next tick now rather than at the end of the period.
  void poke();

  // Something made garbage (a request, the check finishing): trim once the mount is quiet.
  void touch() { activity_.fetch_add(1, std::memory_order_relaxed); }

  // Marks one request as running, for its lifetime: no trim while one is.
  class Busy {
   public:
    explicit Busy(Housekeeper& h) : h_(h) {
      h_.in_flight_.fetch_add(1, std::memory_order_relaxed);
      h_.touch();
    }
    ~Busy() { h_.in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    Housekeeper& h_;
  };

 private:
  void run();
  static void call(const std::function<void()>& f);

  const std::chrono::milliseconds period_;
  const std::function<void()> on_tick_;
  const std::function<void()> on_idle_;
  std::atomic<uint64_t> activity_{0};
  std::atomic<int> in_flight_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace qcow2fs
