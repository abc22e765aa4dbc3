// A fixed, healthy, tiny image for targets whose renderers need an Image beside the structure
// being fuzzed (a snapshot's L1 pointer is judged against the image's cluster size and size).
#pragma once

#include "engine/io/image.h"

namespace qcow2fuzz {

// v3, 64 KiB clusters, 1 MiB virtual size, four clusters (header, refcount table, refcount
// block, L1 table), no snapshots. Made once per process in its own memfd; aborts if it does
// not open as a walkable image.
const qcow2::Image& base_image();

}  // namespace qcow2fuzz
