// Reads a known sequence of clusters on a background thread, a bounded distance ahead of the
// consumer. A check reads one L2 table or refcount block at a time (131072 of them for 256 GiB
// of 4 KiB clusters): the reads run in batches (one system call each, see batch_read.h) on the
// second core while the first one counts.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "engine/io/batch_read.h"
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
  std::span<uint8_t> slot(size_t unit_index) { return {buffer_.get() + (unit_index % depth_) * unit_, unit_}; }

  const ImageFile& file_;
  std::function<uint64_t(size_t)> offset_of_;
  size_t count_;
  size_t unit_;
  size_t depth_;  // slots
  size_t batch_;  // units per read call
  // Not zero-filled: every byte is read before it is handed out (a 2 MiB cluster would
  // otherwise cost a memset and page faults for nothing).
  std::unique_ptr<uint8_t[]> buffer_;
  BatchReader batch_reader_;
  std::vector<ReadRequest> requests_;
  std::vector<Status> status_;  // per slot
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
