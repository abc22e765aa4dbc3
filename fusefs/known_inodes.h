// The inodes the kernel holds: each entry reply adds one lookup, forget and forget_multi take
// them away, so the set stays as small as the kernel's own cache. When the image changes the
// mount tells the kernel to drop the names of these inodes (invalidator.h), and never gives a
// new view a generation some held inode still carries.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace qcow2fs {

class KnownInodes {
 public:
  void add(uint64_t ino);
  void forget(uint64_t ino, uint64_t nlookup);
  // The inodes held now.
  std::vector<uint64_t> all() const;
  // Whether some held inode belongs to the view generation `gen`.
  bool uses_generation(uint32_t gen) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, uint64_t> lookups_;
};

}  // namespace qcow2fs
