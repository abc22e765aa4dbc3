#include "fusefs/invalidator.h"

#include <poll.h>

#include <chrono>
#include <cstdlib>

namespace qcow2fs {
namespace {

// How long stop() keeps answering requests for a busy notification before giving up on it.
constexpr auto kDrainLimit = std::chrono::seconds(10);

}  // namespace

void Invalidator::start(fuse_session* se) {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (thread_.joinable() || s_->stopping) return;
  s_->se = se;
  thread_ = std::thread([s = s_] { run(s); });
}

uint64_t Invalidator::send(std::vector<StaleName> names) {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->stopping || !s_->se) return 0;
    s_->queue.push_back(std::move(names));
    ticket = ++s_->queued;
  }
  s_->cv.notify_all();
  return ticket;
}

bool Invalidator::sent(uint64_t ticket, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(s_->mu);
  return s_->done_cv.wait_for(lock, timeout, [&] { return s_->stopping || s_->done >= ticket; }) &&
         s_->done >= ticket;
}

void Invalidator::run(const std::shared_ptr<Shared>& s) {
  std::unique_lock<std::mutex> lock(s->mu);
  while (true) {
    s->cv.wait(lock, [&] { return s->stopping || !s->queue.empty(); });
    if (s->stopping) return;  // what is left is moot: the mount is going away
    std::vector<StaleName> names = std::move(s->queue.front());
    s->queue.pop_front();
    s->busy = true;
    lock.unlock();
    // The exception boundary of this thread. Errors (ENOENT: the kernel had already dropped
    // that name) are expected and mean there is nothing left to drop.
    try {
      for (const StaleName& n : names) {
        if (s->stopping) break;
        (void)fuse_lowlevel_notify_inval_entry(s->se, n.parent, n.name.c_str(), n.name.size());
      }
      // The root stays inode 1 in every view: its attributes (mtime) and listing go.
      if (!s->stopping) (void)fuse_lowlevel_notify_inval_inode(s->se, 1, 0, 0);
    } catch (...) {
    }
    lock.lock();
    s->busy = false;
    ++s->done;  // batches are sent in the order they were queued
    s->done_cv.notify_all();
  }
}

void Invalidator::stop(fuse_session* se) {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->stopping = true;
  }
  s_->cv.notify_all();
  s_->done_cv.notify_all();
  if (!thread_.joinable()) return;
  if (se) answer_pending(se);
  bool stuck = false;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    stuck = s_->busy;
  }
  // Still stuck in the kernel after the drain: the process ends soon and takes it along.
  if (stuck)
    thread_.detach();
  else
    thread_.join();
}

void Invalidator::answer_pending(fuse_session* se) {
  const auto deadline = std::chrono::steady_clock::now() + kDrainLimit;
  fuse_buf buf{};
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      if (!s_->busy) break;
    }
    pollfd p{fuse_session_fd(se), POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0 || !(p.revents & POLLIN)) continue;
    if (fuse_session_receive_buf(se, &buf) <= 0) break;  // unmounted: nothing holds a lock now
    fuse_session_process_buf(se, &buf);
  }
  std::free(buf.mem);
}

}  // namespace qcow2fs
