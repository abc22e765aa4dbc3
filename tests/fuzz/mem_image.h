// Fuzz input bytes as an image file, so targets can go through Image::open like the tools do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace qcow2fuzz {

// Replaces the contents of this process's one in-memory file (memfd) with `data` and returns
// a path that opens it ("/proc/self/fd/N"). Every call reuses the same file, so nothing is
// left behind and parallel fuzzer processes never share one. Aborts if the kernel refuses.
std::string write_image(const uint8_t* data, size_t size);

// Drops the file's contents (its pages), so a large input is not kept between runs.
void clear_image();

}  // namespace qcow2fuzz
