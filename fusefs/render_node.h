// The text of each kind of file, from the engine's renderers. No caching, no FUSE.
#pragma once

#include <string>

#include "fusefs/check_state.h"
#include "fusefs/tree.h"

namespace qcow2fs {

// `outcome` is the finished check, or null while it runs (files that need it must have
// waited for it before calling).
std::string render_node(const Tree& tree, const CheckOutcome* outcome, const Node& n);

// The one line of `status`: "<state word> <exit code>", "checking N%", or "failed 66" (the
// image cannot be read through) and "failed 70" (the check broke down).
std::string render_status(const CheckOutcome* outcome, unsigned percent);

}  // namespace qcow2fs
