#include "engine/io/prefetch_reader.h"

#include <algorithm>

namespace qcow2 {
namespace {

// Below this many units a thread costs more than it saves (2 MiB clusters have few tables).
constexpr size_t kMinUnitsForThread = 64;
// Units per read call: enough to make the system call's cost vanish, few enough that the
// consumer starts soon and the reader keeps going while it counts.
constexpr size_t kMaxBatch = 64;

}  // namespace

PrefetchReader::PrefetchReader(const ImageFile& file, std::function<uint64_t(size_t)> offset_of, size_t count,
                               size_t unit, size_t max_bytes)
    : file_(file),
      offset_of_(std::move(offset_of)),
      count_(count),
      unit_(unit),
      depth_(count >= kMinUnitsForThread ? std::max<size_t>(2, std::min(count, max_bytes / unit)) : 1),
      // Half the slots per batch, so one batch is read while the other is counted.
      batch_(std::clamp<size_t>(depth_ / 2, 1, kMaxBatch)),
      buffer_(new uint8_t[count ? depth_ * unit : 0]),
      batch_reader_(file, batch_),
      status_(depth_) {
  requests_.reserve(batch_);
  if (count_ >= kMinUnitsForThread) thread_ = std::thread([this] { produce(); });
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
  for (size_t i = 0; i < count_;) {
    const size_t n = std::min(batch_, count_ - i);
    {
      std::unique_lock<std::mutex> lock(mu_);
      producer_waiting_ = true;
      cv_.wait(lock, [&] { return stop_ || produced_ + n - released_ <= depth_; });
      producer_waiting_ = false;
      if (stop_) return;
    }
    // These slots are ours alone until produced_ moves past them.
    requests_.clear();
    for (size_t k = 0; k < n; ++k) requests_.push_back({offset_of_(i + k), slot(i + k)});
    const Status st = batch_reader_.read(requests_);
    if (!st.ok()) {
      // Which unit failed matters for the message only: read them one by one to find it.
      for (size_t k = 0; k < n; ++k) status_[(i + k) % depth_] = file_.read(requests_[k].offset, requests_[k].out);
    } else {
      for (size_t k = 0; k < n; ++k) status_[(i + k) % depth_] = Status::Ok();
    }
    i += n;
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      produced_ = i;
      wake = consumer_waiting_;
    }
    // A wake-up is a futex call (slow in a VM): only when the consumer sleeps.
    if (wake) cv_.notify_all();
  }
}

Result<std::span<const uint8_t>> PrefetchReader::next() {
  if (handed_ >= count_) return Status::InvalidArgument("read past the end of the prefetch list");
  if (!thread_.joinable()) {
    const std::span<uint8_t> out = slot(0);
    Status st = file_.read(offset_of_(handed_++), out);
    if (!st.ok()) return st;
    return std::span<const uint8_t>(out);
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (handed_ > released_) {
    released_ = handed_;  // the previous unit is done with
    // Wake the reader once a whole batch fits, not for every slot that frees up.
    if (producer_waiting_ && released_ + depth_ - produced_ >= batch_) cv_.notify_all();
  }
  consumer_waiting_ = true;
  cv_.wait(lock, [&] { return produced_ > handed_; });
  consumer_waiting_ = false;
  const size_t i = handed_++;
  if (!status_[i % depth_].ok()) return status_[i % depth_];
  return std::span<const uint8_t>(slot(i));
}

}  // namespace qcow2
