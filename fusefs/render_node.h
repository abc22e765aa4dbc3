// The text of each kind of file, from the engine's renderers. No caching, no FUSE.
#pragma once

#include <string>

#include "fusefs/check_state.h"
#include "fusefs/tree.h"

namespace qcow2fs {

// `outcome` is the finished check, or null while it runs (files that need it must be asked
// for only once it is done).
std::string render_node(const Tree& tree, const CheckOutcome* outcome, const Node& n);

}  // namespace qcow2fs
