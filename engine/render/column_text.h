// Small pieces shared by the fixed-column tables of the mounted tree (header, l1, l2, refcount,
// map, clusters): every cell is one token without spaces, so `awk '{print $3}'` works on any
// line; only a table's last column may hold free text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <cstring>

namespace qcow2 {

// A name read from the image as one token: escape_text() with spaces escaped as \x20; "-" if empty.
std::string token(std::string_view raw);

// "0x1f": offsets and raw values are hex everywhere in the tree.
std::string hex_value(uint64_t v);

// "64MiB" or "2TiB" when the size is an exact multiple of the unit, else the decimal bytes.
std::string exact_size(uint64_t bytes);

// "error: <why>\n", the one line a file holds when its content cannot be produced.
std::string error_line(std::string_view why);

// One line of a large table (L2 tables and refcount blocks have up to millions of lines, and
// `ls -l` renders each file to measure it), built in a fixed buffer with plain copies: fmt's
// padding counts Unicode code points and small appends to a growing buffer cost more than the
// formatting itself. Cells are bounded; put() drops what would not fit rather than overflow.
class Line {
 public:
  void put(std::string_view s) {
    const size_t k = s.size() < kCap - n_ ? s.size() : kCap - n_;
    std::memcpy(buf_ + n_, s.data(), k);
    n_ += k;
  }
  void put(char c) {
    if (n_ < kCap) buf_[n_++] = c;
  }
  // `s` left-aligned in `width` columns, then a space.
  void left(std::string_view s, size_t width) {
    const size_t start = n_;
    put(s);
    while (n_ < start + width && n_ < kCap) buf_[n_++] = ' ';
    put(' ');
  }
  // "0x1f", left-aligned in `width` columns and followed by a space unless `width` is 0.
  void hex(uint64_t v, size_t width) {
    char d[18] = {'0', 'x'};
    size_t k = 2;
    int shift = 60;
    while (shift > 0 && ((v >> shift) & 0xf) == 0) shift -= 4;
    for (; shift >= 0; shift -= 4) d[k++] = "0123456789abcdef"[(v >> shift) & 0xf];
    if (width == 0)
      put(std::string_view(d, k));
    else
      left(std::string_view(d, k), width);
  }
  // A decimal right-aligned in `width` columns, then a space.
  void right(uint64_t v, size_t width) {
    const fmt::format_int d(v);
    for (size_t k = d.size(); k < width; ++k) put(' ');
    put(std::string_view(d.data(), d.size()));
    put(' ');
  }
  // A 32-bit bitmap as 0x%08x, then a space.
  void mask(uint32_t m) {
    char d[11] = {'0', 'x'};
    for (int i = 0; i < 8; ++i) d[2 + i] = "0123456789abcdef"[(m >> (28 - 4 * i)) & 0xf];
    d[10] = ' ';
    put(std::string_view(d, 11));
  }
  std::string_view view() const { return {buf_, n_}; }
  size_t size() const { return n_; }
  void clear() { n_ = 0; }

 private:
  static constexpr size_t kCap = 240;
  char buf_[kCap];
  size_t n_ = 0;
};

}  // namespace qcow2
