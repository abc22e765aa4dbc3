#include "engine/io/batch_read.h"

#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace qcow2 {
namespace {

long io_setup(unsigned nr, aio_context_t* ctx) { return syscall(SYS_io_setup, nr, ctx); }
long io_destroy(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
long io_submit(aio_context_t ctx, long n, iocb** cbs) { return syscall(SYS_io_submit, ctx, n, cbs); }
long io_getevents(aio_context_t ctx, long min, long max, io_event* ev) {
  return syscall(SYS_io_getevents, ctx, min, max, ev, nullptr);
}

}  // namespace

BatchReader::BatchReader(const ImageFile& file, size_t max_batch)
    : file_(file), max_batch_(std::max<size_t>(1, max_batch)) {
  if (max_batch_ < 2) return;  // one request per call gains nothing
  aio_context_t ctx = 0;
  if (io_setup(static_cast<unsigned>(max_batch_), &ctx) != 0) return;
  ctx_ = ctx;
  control_.resize(max_batch_ * (sizeof(iocb) + sizeof(iocb*) + sizeof(io_event)));
  done_.resize(max_batch_);
}

BatchReader::~BatchReader() {
  if (ctx_) io_destroy(ctx_);
}

Status BatchReader::read(std::span<const ReadRequest> requests) {
  for (size_t at = 0; at < requests.size(); at += max_batch_) {
    const auto batch = requests.subspan(at, std::min(max_batch_, requests.size() - at));
    if (Status st = read_batch(batch); !st.ok()) return st;
  }
  return Status::Ok();
}

Status BatchReader::read_batch(std::span<const ReadRequest> batch) {
  const size_t n = batch.size();
  // An overlaid file is read through ImageFile, which lays the overlay over what it reads.
  if (!ctx_ || n < 2 || file_.overlaid()) {
    for (const ReadRequest& r : batch)
      if (Status st = file_.read(r.offset, r.out); !st.ok()) return st;
    return Status::Ok();
  }
  auto* cbs = reinterpret_cast<iocb*>(control_.data());
  auto* ptrs = reinterpret_cast<iocb**>(control_.data() + max_batch_ * sizeof(iocb));
  auto* events = reinterpret_cast<io_event*>(control_.data() + max_batch_ * (sizeof(iocb) + sizeof(iocb*)));
  size_t queued = 0;
  for (size_t i = 0; i < n; ++i) {
    done_[i] = false;
    const ReadRequest& r = batch[i];
    // Out-of-range requests go to ImageFile::read below, which names the range.
    if (r.offset > file_.size() || r.out.size() > file_.size() - r.offset || r.out.empty()) continue;
    iocb& cb = cbs[queued];
    std::memset(&cb, 0, sizeof cb);
    cb.aio_data = i;
    cb.aio_fildes = static_cast<uint32_t>(file_.fd());
    cb.aio_lio_opcode = IOCB_CMD_PREAD;
    cb.aio_buf = reinterpret_cast<uint64_t>(r.out.data());
    cb.aio_nbytes = r.out.size();
    cb.aio_offset = static_cast<int64_t>(r.offset);
    ptrs[queued++] = &cb;
  }
  size_t submitted = 0;
  while (submitted < queued) {
    const long s = io_submit(ctx_, static_cast<long>(queued - submitted), ptrs + submitted);
    if (s > 0) submitted += static_cast<size_t>(s);
    else if (s < 0 && errno == EINTR) continue;
    else break;  // the rest are read one by one below
  }
  for (size_t got = 0; got < submitted;) {
    const long r = io_getevents(ctx_, 1, static_cast<long>(submitted - got), events);
    if (r < 0) {
      if (errno == EINTR) continue;
      // Never seen; io_destroy waits for the reads in flight, then pread does the rest.
      io_destroy(ctx_);
      ctx_ = 0;
      break;
    }
    for (long k = 0; k < r; ++k) {
      const size_t i = events[k].data;
      done_[i] = events[k].res >= 0 && static_cast<uint64_t>(events[k].res) == batch[i].out.size();
    }
    got += static_cast<size_t>(r);
  }
  // Short reads, errors and requests never submitted: ImageFile::read finishes or explains them.
  for (size_t i = 0; i < n; ++i)
    if (!done_[i])
      if (Status st = file_.read(batch[i].offset, batch[i].out); !st.ok()) return st;
  return Status::Ok();
}

}  // namespace qcow2
