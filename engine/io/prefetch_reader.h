// Reads a known sequence of clusters on a background thread, a bounded distance ahead of the
// consumer. A check reads one L2 table or refcount block per pread (131072 of them for 256 GiB
// of 4 KiB clusters); the syscalls then run on the second core while the first one counts.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "engine/io/image_file.h"
#include "engine/util/status.h"

namespace qcow2 {

class PrefetchReader {
 public:
  // Reads `unit` bytes at offset_of(0) … offset_of(count - 1), in that order, holding at most
  // `max_bytes` (and at least two units) read ahead.
  PrefetchReader(const ImageFile& file, std::function<uint64_t(size_t)> offset_of, size_t count,
                 size_t unit, size_t max_bytes = 1 << 20);
  ~PrefetchReader();
  PrefetchReader(const PrefetchReader&) = delete;
  PrefetchReader& operator=(const PrefetchReader&) = delete;

  // The next unit; its bytes stay valid until the following call.
  Result<std::span<const uint8_t>> next();

 private:
  void produce();

  const ImageFile& file_;
  std::function<uint64_t(size_t)> offset_of_;
  size_t count_;
  size_t unit_;
  std::vector<std::vector<uint8_t>> slots_;
  std::vector<Status> status_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t produced_ = 0;  // units read
  size_t released_ = 0;  // units the consumer is done with
  size_t handed_ = 0;    // units handed to the consumer
  bool stop_ = false;
  bool producer_waiting_ = false;
  bool consumer_waiting_ = false;
  std::thread thread_;
};

}  // namespace qcow2
