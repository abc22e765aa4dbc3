// The mounted tree's `header` and `features` files: one header field, derived value or feature
// bit per line under one header line, so `grep ^cluster_size header` finds a value.
#pragma once

#include "engine/io/image.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

// Columns: field, value (hex), decoded (one token), byte offset, size. Every stored field in
// file order, then the values derived from them (offset and size "-"); derived geometry only
// when the image is walkable, else a `walkable no` line and a comment saying why.
void render_header_table(const Image& img, TextSink& out);

// Columns: kind (incompatible/compatible/autoclear), bit, set (yes/no), name. Every bit this
// program knows plus every other bit that is set or that the image's feature table names.
void render_features_table(const Image& img, TextSink& out);

}  // namespace qcow2
