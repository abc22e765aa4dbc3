#include "engine/render/extension_text.h"

#include <cstring>
#include <string_view>

#include "engine/render/text_util.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

// An unknown extension may be as large as the cluster; a few rows identify it.
constexpr size_t kHexLimit = 256;
constexpr size_t kFeatureNameEntryBytes = 48;

const char* feature_type_name(uint8_t type) {
  switch (type) {
    case 0: return "incompatible";
    case 1: return "compatible";
    case 2: return "autoclear";
  }
  return "unknown-type";
}

std::string as_text(const std::vector<uint8_t>& d) {
  return escape_text(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Decodes from the extension's own bytes rather than the parsed summary, so that a duplicated
// extension shows what each copy says.
void render_content(const HeaderExtension& x, TextSink& out) {
  const auto& d = x.data;
  switch (x.type) {
    case kExtEnd:
      if (!d.empty()) break;  // an end marker with a length is odd: show its bytes
      out.print("\n");
      return;
    case kExtBackingFormat:
      out.print(": {}\n", as_text(d));
      return;
    case kExtDataFile:
      out.print(": {}\n", as_text(d));
      return;
    case kExtBitmaps:
      if (d.size() >= 24) {
        out.print(": nb_bitmaps {}, reserved 0x{:x}, directory_size {}, directory_offset 0x{:x}\n",
                  load_be32(&d[0]), load_be32(&d[4]), load_be64(&d[8]), load_be64(&d[16]));
        return;
      }
      break;
    case kExtCrypto:
      if (d.size() >= 16) {
        out.print(": crypto header offset 0x{:x}, length {}\n", load_be64(&d[0]), load_be64(&d[8]));
        return;
      }
      break;
    case kExtFeatureNames: {
      out.print(": {} names\n", d.size() / kFeatureNameEntryBytes);
      for (size_t at = 0; at + kFeatureNameEntryBytes <= d.size(); at += kFeatureNameEntryBytes) {
        const char* name = reinterpret_cast<const char*>(&d[at + 2]);
        const std::string_view sv(name, strnlen(name, kFeatureNameEntryBytes - 2));
        out.print("        {} bit {}: {}\n", feature_type_name(d[at]), d[at + 1], escape_text(sv));
      }
      if (d.size() % kFeatureNameEntryBytes != 0)
        out.print("        ({} trailing bytes do not form an entry)\n",
                  d.size() % kFeatureNameEntryBytes);
      return;
    }
    default:
      break;
  }
  out.print(": {} bytes\n", d.size());
  hex_rows(out, d, "        ", kHexLimit);
}

}  // namespace

void render_extensions(const Extensions& ext, const Style& st, TextSink& out) {
  out.print("{}Header extensions: {}{}\n", st.title(), ext.all.size(), st.reset());
  for (size_t i = 0; i < ext.all.size(); ++i) {
    const HeaderExtension& x = ext.all[i];
    out.print("    extension[{}]: type 0x{:08x} ({}), offset 0x{:x}, length {}", i, x.type,
              extension_name(x.type), x.offset, x.length);
    render_content(x, out);
  }
}

}  // namespace qcow2
