#include "engine/io/file_stamp.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qcow2 {
namespace {

constexpr size_t kHeadBytes = 4096;

}  // namespace

std::optional<ImageStamp> stamp_image(const std::string& path) {
  // Non-blocking, as ImageFile opens: a FIFO put in the image's place must not hang the reader.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  ImageStamp s;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
  if (ok) {
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = static_cast<uint64_t>(st.st_size);
    s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    s.head.resize(kHeadBytes);
    const ssize_t n = ::pread(fd, s.head.data(), s.head.size(), 0);
    ok = n >= 0;
    s.head.resize(ok ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  if (!ok) return std::nullopt;
  return s;
}

}  // namespace qcow2
