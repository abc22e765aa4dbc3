// Names read from an image (snapshot ids and names, bitmap names, backing and data file names)
// and paths are arbitrary bytes. This is the one place that makes them safe to show:
// - escape_text: printable ASCII stays, a backslash becomes "\\" and every other byte "\xNN".
//   Text output and JSON both use it, so every line stays one line, every JSON string is valid
//   UTF-8, and the original bytes can be read back unambiguously.
// - shell_quote: one shell word that the shell reads back as exactly these bytes, for the
//   commands the advice suggests (paste-able as they are).
// Strings built from these are ASCII: renderers show them as they are and never escape twice.
#pragma once

#include <string>
#include <string_view>

namespace qcow2 {

std::string escape_text(std::string_view bytes);

std::string shell_quote(std::string_view bytes);

// True when `s` is printable ASCII (what escape_text and shell_quote produce).
bool is_printable_ascii(std::string_view s);

}  // namespace qcow2
