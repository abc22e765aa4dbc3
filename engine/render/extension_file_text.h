// The mounted tree's `extensions/` files: one per header extension, named by position and kind.
#pragma once

#include <cstddef>
#include <string>

#include "engine/format/extensions.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// "0-feature-name-table", "1-backing-format", "3-unknown-0x12345678": unique because of the
// index, stable because it follows the file order.
std::string extension_file_name(const HeaderExtension& x, size_t index);

// Which extensions get a file: all but the end marker (it carries nothing).
bool extension_has_file(const HeaderExtension& x);

// The decoded content: a backing format or data file name is a scalar (one line); the feature
// name table is a `kind bit name` table; bitmaps and crypto are `field value` tables; unknown
// or malformed ones are hex rows `offset hex ascii`.
void render_extension_file(const HeaderExtension& x, TextSink& out);

}  // namespace qcow2
