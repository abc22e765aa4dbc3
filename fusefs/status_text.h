// The text of `status`. Its first line is what scripts read and keeps one form:
// "<state word> <exit code>" once the check is done ("good 0", "leaks 1", ...; "failed 66" when
// the image cannot be read through, "failed 70" when the check broke down), or "checking N%".
// Lines after it say what the mount did and noticed: a repair of ctl/ running, the last one
// applied (when, what, its undo journal), that the image changed under it (and whether it has
// been checked again), and that a VM writes it.
#pragma once

#include <string>

#include "fusefs/check_state.h"

namespace qcow2fs {

class Fs;
class View;

// The first line alone, for a finished check `outcome` or (null) one at `percent`.
std::string status_line(const CheckOutcome* outcome, unsigned percent);

// The whole file for the current view `v`. Looks whether the image changed first (cheap).
std::string status_text(Fs& fs, View& v);

}  // namespace qcow2fs
