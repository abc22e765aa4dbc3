#include "engine/io/image_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "engine/format/extent.h"

namespace qcow2 {

Result<ImageFile> ImageFile::open_read_only(const std::string& path, std::shared_ptr<const Overlay> overlay) {
  // O_NONBLOCK: opening a FIFO (or a device that waits for a peer) must not hang; it is
  // refused below, and regular files ignore the flag (cleared anyway before any read).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    std::string msg = fmt::format("{}: cannot open: {}", path, std::strerror(err));
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError(fmt::format("{}: cannot stat: {}", path, std::strerror(err)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format("{}: is a directory, not an image file", path));
  }
  if (const int flags = ::fcntl(fd, F_GETFL); flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    size = end > 0 ? static_cast<uint64_t>(end) : 0;
  } else if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format("{}: is not a regular file or block device", path));
  }
  return ImageFile(fd, size, path, std::move(overlay));
}

ImageFile::ImageFile(ImageFile&& o) noexcept
    : fd_(o.fd_), size_(o.size_), path_(std::move(o.path_)), overlay_(std::move(o.overlay_)) {
  o.fd_ = -1;
}

ImageFile& ImageFile::operator=(ImageFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    overlay_ = std::move(o.overlay_);
    o.fd_ = -1;
  }
  return *this;
}

ImageFile::~ImageFile() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t ImageFile::allocated_bytes() const {
  struct stat s {};
  if (::fstat(fd_, &s) != 0) return 0;
  return static_cast<uint64_t>(s.st_blocks) * 512;
}

bool ImageFile::is_hole(uint64_t offset, uint64_t length) const {
  const off_t data = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
  return data < 0 || static_cast<uint64_t>(data) >= offset + length;
}

Status ImageFile::read(uint64_t offset, std::span<uint8_t> out) const {
  if (!inside_file(offset, out.size(), size())) {
    return Status::Corruption(fmt::format("{} bytes at offset 0x{:x} lie past the end of the "
                                          "{}-byte file",
                                          out.size(), offset, size()));
  }
  if (!overlay_) return read_disk(offset, out);
  // What lies on disk (none past its end: an overlay grows the file with its own bytes or
  // zeros), then the overlay's writes over it.
  const uint64_t on_disk = offset >= size_ ? 0 : std::min<uint64_t>(out.size(), size_ - offset);
  if (on_disk) QCOW2_RETURN_IF_ERROR(read_disk(offset, out.subspan(0, on_disk)));
  std::fill(out.begin() + static_cast<ptrdiff_t>(on_disk), out.end(), 0);
  overlay_->apply(offset, out);
  return Status::Ok();
}

Status ImageFile::read_disk(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(fmt::format("{}: read of {} bytes at 0x{:x} failed: {}", path_,
                                         out.size(), offset, std::strerror(errno)));
    }
    if (n == 0) {
      return Status::IOError(fmt::format("{}: file shrank while reading at 0x{:x}", path_,
                                         offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace qcow2
