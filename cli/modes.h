// One function per mode; each returns the process exit code.
#pragma once

#include "cli/options.h"

namespace qcow2::cli {

int run_info(const Options& opt);
int run_dump(const Options& opt);
int run_header_layout();
// check and error: accepted on the command line, implemented later.
int run_not_implemented(const Options& opt);

}  // namespace qcow2::cli
