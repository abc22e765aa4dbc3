#include "tests/fuzz/mem_image.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace qcow2fuzz {
namespace {

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::abort();
}

int image_fd() {
  static const int fd = [] {
    const int f = ::memfd_create("qcow2fuzz-image", MFD_CLOEXEC);
    if (f < 0) die("memfd_create");
    return f;
  }();
  return fd;
}

}  // namespace

std::string write_image(const uint8_t* data, size_t size) {
  const int fd = image_fd();
  if (::ftruncate(fd, 0) != 0) die("ftruncate");
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) die("pwrite");
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

void clear_image() {
  if (::ftruncate(image_fd(), 0) != 0) die("ftruncate");
}

}  // namespace qcow2fuzz
