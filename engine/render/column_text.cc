#include "engine/render/column_text.h"

#include <fmt/format.h>

#include "engine/render/text_util.h"

namespace qcow2 {

std::string token(std::string_view raw) {
  if (raw.empty()) return "-";
  std::string out;
  for (char c : escape_text(raw)) {
    if (c == ' ')
      out += "\\x20";
    else
      out += c;
  }
  return out;
}

std::string hex_value(uint64_t v) { return fmt::format("0x{:x}", v); }

std::string exact_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes == 0) return "0";
  int unit = -1;
  uint64_t v = bytes;
  while (unit < 5 && v % 1024 == 0) {
    v /= 1024;
    ++unit;
  }
  return unit < 0 ? fmt::to_string(bytes) : fmt::format("{}{}", v, kUnits[unit]);
}

std::string error_line(std::string_view why) { return fmt::format("error: {}\n", why); }

}  // namespace qcow2
