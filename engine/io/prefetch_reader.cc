#include "engine/io/prefetch_reader.h"

#include <algorithm>

namespace qcow2 {
namespace {

// Below this many units a thread costs more than it saves (2 MiB clusters have few tables).
constexpr size_t kMinUnitsForThread = 64;

}  // namespace

PrefetchReader::PrefetchReader(const ImageFile& file, std::function<uint64_t(size_t)> offset_of, size_t count,
                               size_t unit, size_t max_bytes)
    : file_(file), offset_of_(std::move(offset_of)), count_(count), unit_(unit) {
  const bool threaded = count_ >= kMinUnitsForThread;
  const size_t depth = threaded ? std::max<size_t>(2, std::min(count, max_bytes / unit)) : 1;
  slots_.assign(depth, std::vector<uint8_t>(count_ ? unit : 0));
  status_.resize(depth);
  if (threaded) thread_ = std::thread([this] { produce(); });
}

PrefetchReader::~PrefetchReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PrefetchReader::produce() {
  for (size_t i = 0; i < count_; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      producer_waiting_ = true;
      cv_.wait(lock, [&] { return stop_ || produced_ - released_ < slots_.size(); });
      producer_waiting_ = false;
      if (stop_) return;
    }
    // The slot is ours alone until produced_ moves past it.
    const size_t slot = i % slots_.size();
    status_[slot] = file_.read(offset_of_(i), slots_[slot]);
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++produced_;
      wake = consumer_waiting_;
    }
    // A wake-up is a futex call (slow in a VM): only when the consumer sleeps.
    if (wake) cv_.notify_all();
  }
}

Result<std::span<const uint8_t>> PrefetchReader::next() {
  if (handed_ >= count_) return Status::InvalidArgument("read past the end of the prefetch list");
  if (!thread_.joinable()) {
    Status st = file_.read(offset_of_(handed_++), slots_[0]);
    if (!st.ok()) return st;
    return std::span<const uint8_t>(slots_[0]);
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (handed_ > released_) {
    released_ = handed_;  // the previous unit is done with
    if (producer_waiting_) cv_.notify_all();
  }
  consumer_waiting_ = true;
  cv_.wait(lock, [&] { return produced_ > handed_; });
  consumer_waiting_ = false;
  const size_t slot = handed_++ % slots_.size();
  if (!status_[slot].ok()) return status_[slot];
  return std::span<const uint8_t>(slots_[slot]);
}

}  // namespace qcow2
