#include "engine/io/prefetch_reader.h"

#include <algorithm>

namespace qcow2 {

PrefetchReader::PrefetchReader(const ImageFile& file, std::function<uint64_t(size_t)> offset_of, size_t count,
                               size_t unit, size_t max_bytes)
    : file_(file), offset_of_(std::move(offset_of)), count_(count), unit_(unit) {
  const size_t depth = std::max<size_t>(2, std::min(count, max_bytes / unit));
  slots_.assign(depth, std::vector<uint8_t>(unit));
  status_.resize(depth);
  if (count_ > 0) thread_ = std::thread([this] { produce(); });
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
      cv_.wait(lock, [&] { return stop_ || produced_ - released_ < slots_.size(); });
      if (stop_) return;
    }
    // The slot is ours alone until produced_ moves past it.
    const size_t slot = i % slots_.size();
    status_[slot] = file_.read(offset_of_(i), slots_[slot]);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++produced_;
    }
    cv_.notify_all();
  }
}

Result<std::span<const uint8_t>> PrefetchReader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (handed_ > released_) {
    released_ = handed_;  // the previous unit is done with
    cv_.notify_all();
  }
  if (handed_ >= count_) return Status::InvalidArgument("read past the end of the prefetch list");
  cv_.wait(lock, [&] { return produced_ > handed_; });
  const size_t slot = handed_++ % slots_.size();
  if (!status_[slot].ok()) return status_[slot];
  return std::span<const uint8_t>(slots_[slot]);
}

}  // namespace qcow2
