// Failures end a run with exactly one line on stderr: "qcow2-dump: <what is wrong>".
#pragma once

#include <string_view>

#include "engine/util/status.h"

namespace qcow2::cli {

// Prints the line and returns `code`, so callers can `return fail(...)`.
int fail(int code, std::string_view message);

// The exit code for a Status that stopped a run (open or read failures).
int exit_code_for(const Status& st);

}  // namespace qcow2::cli
