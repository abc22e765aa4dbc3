// A read-only file descriptor with exact, bounds-checked reads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/io/overlay.h"

#include "engine/util/status.h"

namespace qcow2 {

class ImageFile {
 public:
  // Opens O_RDONLY. Fails, naming the path, for a missing, unreadable or non-regular file.
  // With an overlay, reads see the file as the overlay's writes would leave it.
  static Result<ImageFile> open_read_only(const std::string& path, std::shared_ptr<const Overlay> overlay = {});

  ImageFile(ImageFile&& other) noexcept;
  ImageFile& operator=(ImageFile&& other) noexcept;
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  ~ImageFile();

  // Reads exactly out.size() bytes at `offset`; a range past the end of the file is a
  // kCorruption error that names the range, never a short read.
  Status read(uint64_t offset, std::span<uint8_t> out) const;

  uint64_t size() const { return overlay_ ? overlay_->size() : size_; }
  // True when reads go through an overlay (not what is on disk).
  bool overlaid() const { return overlay_ != nullptr; }
  // Bytes the file occupies on disk (its allocated blocks); 0 when the system cannot say.
  uint64_t allocated_bytes() const;
  // True when [offset, offset + length) is a hole: never written, reads as zeros.
  bool is_hole(uint64_t offset, uint64_t length) const;
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  ImageFile(int fd, uint64_t size, std::string path, std::shared_ptr<const Overlay> overlay)
      : fd_(fd), size_(size), path_(std::move(path)), overlay_(std::move(overlay)) {}
  Status read_disk(uint64_t offset, std::span<uint8_t> out) const;

  int fd_ = -1;
  uint64_t size_ = 0;  // on disk
  std::string path_;
  std::shared_ptr<const Overlay> overlay_;
};

}  // namespace qcow2
