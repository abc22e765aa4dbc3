// Names read from an image are arbitrary bytes. In a one-line message quoted with '…', keep
// printable ASCII and write everything else (the backslash and the quote too) as \xNN.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace qcow2 {

inline std::string quote_name_bytes(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace qcow2
