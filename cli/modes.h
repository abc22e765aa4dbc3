// One function per mode; each returns the process exit code.
#pragma once

#include "cli/options.h"

namespace qcow2::cli {

int run_info(const Options& opt);
int run_dump(const Options& opt);
int run_header_layout();
// -m check and -m error; the exit code is the image's status.
int run_check(const Options& opt);
// The writing options (-R, -A, -D, -E, -M, -C, -m edit, -m copy, --undo); the exit code is
// the status of the check after the repair.
int run_repair_mode(const Options& opt);

}  // namespace qcow2::cli
