// A read-only file descriptor with exact, bounds-checked reads.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine/util/status.h"

namespace qcow2 {

class ImageFile {
 public:
  // Opens O_RDONLY. Fails, naming the path, for a missing, unreadable or non-regular file.
  static Result<ImageFile> open_read_only(const std::string& path);

  ImageFile(ImageFile&& other) noexcept;
  ImageFile& operator=(ImageFile&& other) noexcept;
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  ~ImageFile();

  // Reads exactly out.size() bytes at `offset`; a range past the end of the file is a
  // kCorruption error that names the range, never a short read.
  Status read(uint64_t offset, std::span<uint8_t> out) const;

  uint64_t size() const { return size_; }
  // Bytes the file occupies on disk (its allocated blocks); 0 when the system cannot say.
  uint64_t allocated_bytes() const;
  // True when [offset, offset + length) is a hole: never written, reads as zeros.
  bool is_hole(uint64_t offset, uint64_t length) const;
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  ImageFile(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace qcow2
