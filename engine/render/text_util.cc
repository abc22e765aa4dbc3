#include "engine/render/text_util.h"

#include <fmt/format.h>

namespace qcow2 {

std::string size_bmg(uint64_t bytes) {
  return fmt::format("{} / {:.2f}M / {:.2f}G", bytes, static_cast<double>(bytes) / (1ULL << 20),
                     static_cast<double>(bytes) / (1ULL << 30));
}


const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
    case Severity::kFatal: return "fatal";
  }
  return "?";
}

void field_line(TextSink& out, std::string_view name, std::string_view value) {
  out.print("{:<28}{}\n", fmt::format("{}:", name), value);
}

void hex_rows(TextSink& out, std::span<const uint8_t> bytes, std::string_view indent,
              size_t limit) {
  const size_t shown = std::min(bytes.size(), limit);
  for (size_t row = 0; row < shown; row += 16) {
    fmt::memory_buffer line;
    fmt::format_to(std::back_inserter(line), "{}{:04x}:", indent, row);
    for (size_t i = row; i < std::min(shown, row + 16); ++i)
      fmt::format_to(std::back_inserter(line), " {:02x}", bytes[i]);
    line.push_back('\n');
    out.write(std::string_view(line.data(), line.size()));
  }
  if (shown < bytes.size()) out.print("{}... {} more bytes not shown\n", indent, bytes.size() - shown);
}

}  // namespace qcow2
