#include "engine/io/image_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "engine/io/image_file.h"
#include "engine/io/qemu_locks.h"
#include "engine/io/write_faults.h"

namespace qcow2 {
namespace {

// QEMU's permission bits (block/file-posix.c: BLK_PERM_*): consistent read 0, write 1, resize 3.
constexpr unsigned kPermConsistentRead = 0, kPermWrite = 1, kPermResize = 3;

Status errno_status(const std::string& what, int err) {
  return Status::IOError(fmt::format("{}: {}", what, std::strerror(err)));
}

Status lock_byte(int fd, unsigned byte) {
  struct flock fl {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return Status::Ok();
  if (errno == EAGAIN || errno == EACCES)
    return Status::Busy(fmt::format("another process holds QEMU's lock on byte {} for itself: the image is in use; "
                                    "nothing was written",
                                    byte));
  return errno_status(fmt::format("cannot take QEMU's lock on byte {}", byte), errno);
}

// Another open file description holds `byte`.
bool held_by_other(int fd, unsigned byte) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  return ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

Status full_write(int fd, uint64_t offset, std::span<const uint8_t> b, const std::string& path) {
  if (int err = fault_before(FaultOp::kWrite)) return errno_status(fmt::format("{}: write at 0x{:x}", path, offset), err);
  size_t done = 0;
  while (done < b.size()) {
    const ssize_t n = ::pwrite(fd, b.data() + done, b.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(fmt::format("{}: write of {} bytes at 0x{:x}", path, b.size(), offset), errno);
    }
    done += static_cast<size_t>(n);
  }
  fault_after(FaultOp::kWrite);
  return Status::Ok();
}

Status do_sync(int fd, bool data_only, const std::string& what) {
  if (int err = fault_before(FaultOp::kSync)) return errno_status(what, err);
  if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) return errno_status(what, errno);
  fault_after(FaultOp::kSync);
  return Status::Ok();
}

}  // namespace

Result<ImageWriter> ImageWriter::open(const std::string& path, Access access) {
  const bool rw = access == Access::kReadWrite;
  const int fd = ::open(path.c_str(), (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return errno_status(fmt::format("{}: cannot open{}", path, rw ? " for writing" : ""), errno);
  ImageWriter w(fd, path, rw);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return Status::InvalidArgument(fmt::format("{}: not a regular file", path));
  // Read-only (-l): what qemu-io -r holds, so that no VM starts writing while we read.
  const std::vector<unsigned> perms = rw ? std::vector<unsigned>{kPermConsistentRead, kPermWrite, kPermResize}
                                         : std::vector<unsigned>{kPermConsistentRead};
  for (unsigned perm : perms) QCOW2_RETURN_IF_ERROR(lock_byte(fd, kQemuLockPermBase + perm));
  for (unsigned perm : {kPermWrite, kPermResize}) QCOW2_RETURN_IF_ERROR(lock_byte(fd, kQemuLockSharedBase + perm));
  std::vector<unsigned> conflicts = {kQemuLockPermBase + kPermWrite, kQemuLockPermBase + kPermResize};
  if (rw) conflicts.insert(conflicts.end(), {kQemuLockSharedBase + kPermWrite, kQemuLockSharedBase + kPermResize});
  // Held first, checked after, as QEMU does: whoever comes second sees the other.
  for (unsigned byte : conflicts) {
    if (!held_by_other(fd, byte)) continue;
    auto file = ImageFile::open_read_only(path);
    std::string who = "another process";
    if (file.ok())
      if (auto s = probe_qemu_locks(*file); s.ok() && !s->holders.empty()) who = s->holders;
    return Status::Busy(fmt::format("{}: {} holds QEMU's lock on byte {} ({}): it is in use; nothing was written",
                                       path, who, byte, byte >= kQemuLockSharedBase ? "it does not share writing" : "it writes",
                                    rw ? "; nothing was written" : ""));
  }
  return w;
}

ImageWriter::ImageWriter(ImageWriter&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)), writable_(o.writable_) {
  o.fd_ = -1;
}

ImageWriter::~ImageWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status ImageWriter::read(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(fmt::format("{}: read at 0x{:x}", path_, offset), errno);
    if (n == 0) return Status::Corruption(fmt::format("{}: {} bytes at 0x{:x} lie past the end of the file", path_,
                                                      out.size(), offset));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status ImageWriter::write(uint64_t offset, std::span<const uint8_t> bytes) {
  if (!writable_) return Status::InvalidArgument(path_ + ": opened read-only");
  return full_write(fd_, offset, bytes, path_);
}

Status ImageWriter::truncate(uint64_t size) {
  if (int err = fault_before(FaultOp::kWrite)) return errno_status(fmt::format("{}: truncate", path_), err);
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return errno_status(fmt::format("{}: truncate", path_), errno);
  fault_after(FaultOp::kWrite);
  return Status::Ok();
}

Status ImageWriter::punch(uint64_t offset, uint64_t length) {
  if (int err = fault_before(FaultOp::kWrite)) return errno_status(fmt::format("{}: punch at 0x{:x}", path_, offset), err);
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
    // A file system without holes: write the zeros the range must read as.
    if (errno != EOPNOTSUPP) return errno_status(fmt::format("{}: punch at 0x{:x}", path_, offset), errno);
    const std::vector<uint8_t> zeros(length, 0);
    return full_write(fd_, offset, zeros, path_);
  }
  fault_after(FaultOp::kWrite);
  return Status::Ok();
}

Status ImageWriter::sync_data() { return do_sync(fd_, true, path_ + ": fdatasync"); }
Status ImageWriter::sync() { return do_sync(fd_, false, path_ + ": fsync"); }

uint64_t ImageWriter::size() const {
  struct stat st {};
  return ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

Result<DurableFile> DurableFile::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_APPEND, 0600);
  if (fd < 0) return errno_status(fmt::format("{}: cannot create the journal", path), errno);
  return DurableFile(fd, path);
}

Result<DurableFile> DurableFile::append_to(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_APPEND);
  if (fd < 0) return errno_status(fmt::format("{}: cannot open the journal", path), errno);
  DurableFile f(fd, path);
  f.dir_synced_ = true;  // its name is there already
  return f;
}

Result<std::vector<uint8_t>> DurableFile::read_all(const std::string& path) {
  auto f = ImageFile::open_read_only(path);
  if (!f.ok()) return f.status();
  std::vector<uint8_t> out(f->size());
  QCOW2_RETURN_IF_ERROR(f->read(0, out));
  return out;
}

DurableFile::DurableFile(DurableFile&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), dir_synced_(o.dir_synced_) {
  o.fd_ = -1;
}

DurableFile::~DurableFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status DurableFile::append(std::span<const uint8_t> bytes) {
  // O_APPEND: the offset is ignored.
  return full_write(fd_, 0, bytes, path_);
}

Status DurableFile::sync() {
  QCOW2_RETURN_IF_ERROR(do_sync(fd_, false, path_ + ": fsync"));
  if (dir_synced_) return Status::Ok();
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return errno_status(fmt::format("{}: cannot open its directory", path_), errno);
  Status st = do_sync(d, false, dir + ": fsync");
  ::close(d);
  if (st.ok()) dir_synced_ = true;
  return st;
}

}  // namespace qcow2
