#include "engine/util/escape.h"

namespace qcow2 {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool printable(unsigned char c) { return c >= 0x20 && c < 0x7f; }

void put_hex(std::string& out, unsigned char c) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

}  // namespace

std::string escape_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c == '\\')
      out += "\\\\";
    else if (printable(c))
      out += static_cast<char>(c);
    else
      put_hex(out, c);
  }
  return out;
}

std::string shell_quote(std::string_view bytes) {
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%=";
  if (!bytes.empty() && bytes.find_first_not_of(kPlain) == std::string_view::npos) return std::string(bytes);
  bool all_printable = true;
  for (unsigned char c : bytes) all_printable &= printable(c);
  std::string out;
  if (all_printable) {
    // '...' keeps everything literal; a quote ends it, is escaped, and a new one starts.
    out = "'";
    for (char c : bytes) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  // Bytes a terminal cannot show: bash's $'...' with \xNN, as `printf %q` writes it.
  out = "$'";
  for (unsigned char c : bytes) {
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (printable(c)) {
      out += static_cast<char>(c);
    } else {
      put_hex(out, c);
    }
  }
  return out + "'";
}

bool is_printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (!printable(c)) return false;
  return true;
}

}  // namespace qcow2
