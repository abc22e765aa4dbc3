#include "fusefs/fs.h"

#include <unistd.h>

namespace qcow2fs {

Fs::Fs(std::unique_ptr<qcow2::Image> img, bool read_only_mount)
    : tree(std::move(img)),
      check(tree.image()),
      read_only(read_only_mount),
      mount_time(std::time(nullptr)),
      uid(getuid()),
      gid(getgid()) {}

}  // namespace qcow2fs
