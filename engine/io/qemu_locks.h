// QEMU's image locks. QEMU takes OFD byte-range locks (fcntl F_OFD_SETLK) on an image it has
// open: byte 100 + n while it uses permission n, byte 200 + n while it refuses to share it
// (block/file-posix.c: RAW_LOCK_PERM_BASE, RAW_LOCK_SHARED_BASE). Permission 1 is "write", so
// a lock on byte 101 means a running VM (or qemu-io, qemu-img commit, ...) writes the image,
// and one on byte 201 that somebody will not let anyone else write it.
// Probing uses F_OFD_GETLK and takes no lock: a read-only inspection must not stop a VM from
// starting.
#pragma once

#include <string>

#include "engine/io/image_file.h"
#include "engine/util/status.h"

namespace qcow2 {

inline constexpr unsigned kQemuLockPermBase = 100;
inline constexpr unsigned kQemuLockSharedBase = 200;
inline constexpr unsigned kQemuPermWrite = 1;

struct QemuLockState {
  bool writer = false;          // byte 101 is locked: someone writes the image
  bool write_unshared = false;  // byte 201 is locked: someone refuses to share writing
  // Who holds them, when /proc says ("pid 1234 (qemu-system-x86)"); empty when unknown.
  std::string holders;
  bool in_use() const { return writer; }
  // "in use by a running VM (pid 1234 (qemu-io) holds QEMU's write lock, byte 101)".
  std::string describe() const;
};

// Tests QEMU's lock bytes on `file`. Fails only when the kernel refuses the probe itself
// (a file system without OFD locks answers "not locked").
Result<QemuLockState> probe_qemu_locks(const ImageFile& file);

}  // namespace qcow2
