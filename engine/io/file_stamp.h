// What a long-lived reader (the mount) compares to notice that the image changed under it:
// which file the path names, its size and mtime, and its first bytes (the header and, usually,
// its extensions). One stat and one 4 KiB read: cheap enough for once a second.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcow2 {

struct ImageStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::vector<uint8_t> head;

  bool operator==(const ImageStamp&) const = default;
};

// The stamp of the file at `path` now, or nothing when it cannot be read (gone, unreadable).
std::optional<ImageStamp> stamp_image(const std::string& path);

}  // namespace qcow2
