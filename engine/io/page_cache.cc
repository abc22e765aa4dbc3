#include "engine/io/page_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qcow2 {

Status drop_page_cache(const std::string& path) {
  // O_NONBLOCK, as in ImageFile: a FIFO must not hang us here either.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = fmt::format("{}: cannot open: {}", path, std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  const int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // returns the error
  ::close(fd);
  // ESPIPE (a FIFO) and the like: Image::open refuses those with a better message.
  if (err != 0 && err != ESPIPE)
    return Status::IOError(fmt::format("{}: cannot drop its page cache: {}", path, std::strerror(err)));
  return Status::Ok();
}

}  // namespace qcow2
