// Small pieces shared by the fixed-column tables of the mounted tree (header, l1, l2, refcount,
// map, clusters): every cell is one token without spaces, so `awk '{print $3}'` works on any
// line; only a table's last column may hold free text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qcow2 {

// A name read from the image as one token: printable() with spaces escaped as \x20; "-" if empty.
std::string token(std::string_view raw);

// "0x1f": offsets and raw values are hex everywhere in the tree.
std::string hex_value(uint64_t v);

// "64MiB" or "2TiB" when the size is an exact multiple of the unit, else the decimal bytes.
std::string exact_size(uint64_t bytes);

// "error: <why>\n", the one line a file holds when its content cannot be produced.
std::string error_line(std::string_view why);

}  // namespace qcow2
