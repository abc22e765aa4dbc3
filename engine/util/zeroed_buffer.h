// A large zero-filled byte array straight from the kernel: pages arrive zeroed on first
// touch (no memset pass over 32 MiB), in 2 MiB pages where transparent huge pages are on
// (one fault per 2 MiB instead of 512), and go back to the system when it is destroyed.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace qcow2 {

class ZeroedBuffer {
 public:
  ZeroedBuffer() = default;
  explicit ZeroedBuffer(size_t size) : size_(size) {
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (size_ >= kHugePage) ::madvise(p, size_, MADV_HUGEPAGE);  // a hint: fine if refused
    data_ = static_cast<uint8_t*>(p);
  }
  ZeroedBuffer(ZeroedBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  ZeroedBuffer& operator=(ZeroedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ZeroedBuffer(const ZeroedBuffer&) = delete;
  ZeroedBuffer& operator=(const ZeroedBuffer&) = delete;
  ~ZeroedBuffer() {
    if (data_) ::munmap(data_, size_);
  }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  uint8_t& operator[](size_t i) { return data_[i]; }
  const uint8_t& operator[](size_t i) const { return data_[i]; }

 private:
  static constexpr size_t kHugePage = 2u << 20;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace qcow2
