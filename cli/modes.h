// One function per mode; each returns the process exit code.
#pragma once

#include "cli/options.h"

namespace qcow2::cli {

int run_info(const Options& opt);
int run_dump(const Options& opt);
int run_header_layout();
// -m check and -m error; the exit code is the image's status.
int run_check(const Options& opt);

}  // namespace qcow2::cli
