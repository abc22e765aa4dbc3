// Bytes a repair plan would write, laid over the file: reads through an overlaid ImageFile see
// them as if written (and the file as long as the plan makes it). A plan is validated by
// checking the image it would leave, without writing a byte of the real one.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace qcow2 {

class Overlay {
 public:
  explicit Overlay(uint64_t file_size) : size_(file_size) {}

  // Lays `bytes` at `offset` (later writes win where they overlap); the file grows to cover
  // them.
  void write(uint64_t offset, std::span<const uint8_t> bytes);
  // The same without a copy: `bytes` must stay valid (and may change) while the overlay is
  // read. A plan's edits are laid this way, so that checking a plan that appends a new
  // refcount structure of 32 MiB does not hold it twice. Falls back to write() where it
  // overlaps what is laid already.
  void lay(uint64_t offset, std::span<const uint8_t> bytes);
  // The file's new size (a plan may also cut it).
  void resize(uint64_t size) { size_ = size; }
  uint64_t size() const { return size_; }

  // Copies the overlaid bytes that fall in [offset, offset + out.size()) into `out`.
  void apply(uint64_t offset, std::span<uint8_t> out) const;
  bool empty() const { return extents_.empty(); }

 private:
  struct Extent {
    std::vector<uint8_t> owned;
    std::span<const uint8_t> view;  // the bytes: `owned`, or someone else's
  };
  std::map<uint64_t, Extent> extents_;  // start -> bytes; never overlapping
  uint64_t size_;
};

}  // namespace qcow2
