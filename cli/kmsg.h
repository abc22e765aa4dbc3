// qcow2-dump -K: the check's one-line result also goes to the kernel log (/dev/kmsg), where a
// host's monitoring already looks. A log that cannot be written costs one warning line on
// stderr, never the run: the exit status stays the image's.
#pragma once

#include <string>

namespace qcow2::cli {

// Writes "qcow2-dump: <summary>" as one kernel log record. The path is /dev/kmsg, or
// $QCOW2_DUMP_KMSG when set (the tests point it at a file, or at one that cannot be opened).
void log_to_kmsg(const std::string& summary);

}  // namespace qcow2::cli
