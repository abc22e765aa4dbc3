#include "engine/render/extension_file_text.h"

#include <fmt/format.h>

#include <cstring>
#include <string_view>

#include "engine/render/column_text.h"
#include "engine/render/text_util.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

constexpr size_t kFeatureEntryBytes = 48;

const char* feature_kind(uint8_t type) {
  switch (type) {
    case 0: return "incompatible";
    case 1: return "compatible";
    case 2: return "autoclear";
  }
  return "unknown-type";
}

std::string slug(uint32_t type) {
  switch (type) {
    case kExtEnd: return "end";
    case kExtBackingFormat: return "backing-format";
    case kExtFeatureNames: return "feature-name-table";
    case kExtBitmaps: return "bitmaps";
    case kExtCrypto: return "full-disk-encryption";
    case kExtDataFile: return "external-data-file";
  }
  return fmt::format("unknown-0x{:08x}", type);
}

void hex_table(const std::vector<uint8_t>& d, TextSink& out) {
  out.print("{:<8} {:<47}  {}\n", "# offset", "hex", "ascii");
  for (size_t row = 0; row < d.size(); row += 16) {
    fmt::memory_buffer line;
    auto it = std::back_inserter(line);
    fmt::format_to(it, "{:<8x} ", row);
    std::string ascii;
    for (size_t i = row; i < row + 16; ++i) {
      if (i < d.size()) {
        fmt::format_to(it, "{}{:02x}", i == row ? "" : " ", d[i]);
        ascii += d[i] >= 0x20 && d[i] < 0x7f ? static_cast<char>(d[i]) : '.';
      } else {
        fmt::format_to(it, "   ");
      }
    }
    fmt::format_to(it, "  {}\n", ascii);
    out.write(std::string_view(line.data(), line.size()));
  }
}

void feature_table(const std::vector<uint8_t>& d, TextSink& out) {
  out.print("{:<12} {:>3} {}\n", "# kind", "bit", "name");
  for (size_t at = 0; at + kFeatureEntryBytes <= d.size(); at += kFeatureEntryBytes) {
    const char* name = reinterpret_cast<const char*>(&d[at + 2]);
    const std::string_view sv(name, strnlen(name, kFeatureEntryBytes - 2));
    out.print("{:<12} {:>3} {}\n", feature_kind(d[at]), d[at + 1], escape_text(sv));
  }
  if (d.size() % kFeatureEntryBytes != 0)
    out.print("# {} trailing bytes do not form an entry\n", d.size() % kFeatureEntryBytes);
}

}  // namespace

std::string extension_file_name(const HeaderExtension& x, size_t index) {
  return fmt::format("{}-{}", index, slug(x.type));
}

bool extension_has_file(const HeaderExtension& x) { return x.type != kExtEnd || !x.data.empty(); }

void render_extension_file(const HeaderExtension& x, TextSink& out) {
  const auto& d = x.data;
  switch (x.type) {
    case kExtBackingFormat:
    case kExtDataFile:
      out.print("{}\n", escape_text(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())));
      return;
    case kExtFeatureNames:
      feature_table(d, out);
      return;
    case kExtBitmaps:
      if (d.size() != 24) break;
      out.print("{:<18} {}\n", "# field", "value");
      out.print("{:<18} {}\n", "nb_bitmaps", load_be32(&d[0]));
      out.print("{:<18} {}\n", "reserved", hex_value(load_be32(&d[4])));
      out.print("{:<18} {}\n", "directory_size", load_be64(&d[8]));
      out.print("{:<18} {}\n", "directory_offset", hex_value(load_be64(&d[16])));
      return;
    case kExtCrypto:
      if (d.size() != 16) break;
      out.print("{:<18} {}\n", "# field", "value");
      out.print("{:<18} {}\n", "offset", hex_value(load_be64(&d[0])));
      out.print("{:<18} {}\n", "length", load_be64(&d[8]));
      return;
    default:
      break;
  }
  hex_table(d, out);
}

}  // namespace qcow2
