// The one way an image is written. A repair opens it read-write only while it applies, and
// holds the locks QEMU takes for writing without sharing writes (OFD read locks on bytes 100,
// 101, 103: it uses consistent read, write and resize; 201, 203: it shares neither write nor
// resize), so no VM can start on the image mid-repair and qemu-img check -r cannot take its
// write lock. It refuses an image some other process holds that way. Every write and sync goes
// through the fault hook (write_faults.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace qcow2 {

class ImageWriter {
 public:
  // Opens `path` O_RDWR and takes QEMU's locks; refuses (kIOError naming the holder and the
  // lock byte) when another process uses or refuses to share write or resize.
  // kReadOnly (-l on a read-only run) holds what `qemu-io -r` holds (bytes 100, 201, 203), so
  // that no VM starts writing while we read, and refuses an image a process writes.
  enum class Access { kReadWrite, kReadOnly };
  static Result<ImageWriter> open(const std::string& path, Access access = Access::kReadWrite);
  bool writable() const { return writable_; }

  ImageWriter(ImageWriter&& o) noexcept;
  ImageWriter& operator=(ImageWriter&&) = delete;
  ImageWriter(const ImageWriter&) = delete;
  ~ImageWriter();  // closing the descriptor drops the locks

  Status read(uint64_t offset, std::span<uint8_t> out) const;  // exactly, or an error
  Status write(uint64_t offset, std::span<const uint8_t> bytes);
  Status truncate(uint64_t size);
  // Punches a hole (the file keeps its size; the range reads as zeros).
  Status punch(uint64_t offset, uint64_t length);
  Status sync_data();  // fdatasync
  Status sync();       // fsync (size and metadata too)
  uint64_t size() const;
  const std::string& path() const { return path_; }

 private:
  ImageWriter(int fd, std::string path, bool writable) : fd_(fd), path_(std::move(path)), writable_(writable) {}
  int fd_ = -1;
  std::string path_;
  bool writable_ = false;
};

// An append-only file made durable on request: the undo journal.
class DurableFile {
 public:
  // Creates `path` (refusing one that exists: a journal is never overwritten).
  static Result<DurableFile> create(const std::string& path);
  // Opens an existing file to append to it (markers on a journal).
  static Result<DurableFile> append_to(const std::string& path);
  static Result<std::vector<uint8_t>> read_all(const std::string& path);

  DurableFile(DurableFile&& o) noexcept;
  DurableFile& operator=(DurableFile&&) = delete;
  DurableFile(const DurableFile&) = delete;
  ~DurableFile();

  Status append(std::span<const uint8_t> bytes);
  // fsync, and the first time also the directory, so that the file's name survives a crash.
  Status sync();

 private:
  DurableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  bool dir_synced_ = false;
};

}  // namespace qcow2
