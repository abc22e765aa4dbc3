// Small formatting pieces shared by the renderers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/format/header.h"
#include "engine/render/text_sink.h"
#include "engine/util/escape.h"

namespace qcow2 {

// "1073741824 / 1024.00M / 1.00G", the old tool's size notation.
std::string size_bmg(uint64_t bytes);


// "info", "warning", "error", "fatal".
const char* severity_name(Severity s);

// One "name: value" line of the header block, values aligned in one column.
void field_line(TextSink& out, std::string_view name, std::string_view value);

// Hex rows of up to 16 bytes, each prefixed by `indent` and the offset within `bytes`;
// at most `limit` bytes, then a line saying how many were left out.
void hex_rows(TextSink& out, std::span<const uint8_t> bytes, std::string_view indent,
              size_t limit);

}  // namespace qcow2
