// Many small reads in one system call. A check reads one L2 table or refcount block at a time
// (131072 of them for 256 GiB of 4 KiB clusters), each 2 MiB from the next; a pread apiece
// spends most of its time entering and leaving the kernel. Linux AIO takes a whole batch in
// one io_submit, and buffered reads from the page cache complete inside that call.
// Where AIO is unavailable (no io_setup, a seccomp filter, aio-max-nr reached) it falls back
// to one pread per request, with the same results.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/io/image_file.h"
#include "engine/util/status.h"

namespace qcow2 {

struct ReadRequest {
  uint64_t offset = 0;
  std::span<uint8_t> out;
};

class BatchReader {
 public:
  // Batches of up to `max_batch` requests.
  BatchReader(const ImageFile& file, size_t max_batch);
  ~BatchReader();
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // Fills every request exactly (as ImageFile::read); the first failure, in request order.
  Status read(std::span<const ReadRequest> requests);

 private:
  Status read_batch(std::span<const ReadRequest> batch);

  const ImageFile& file_;
  size_t max_batch_;
  unsigned long ctx_ = 0;  // aio_context_t; 0 when AIO is not in use
  std::vector<uint8_t> control_;  // iocbs, their pointers and the completion events
  std::vector<bool> done_;
};

}  // namespace qcow2
