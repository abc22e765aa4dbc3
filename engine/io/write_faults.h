// Fault injection for the write path, so that tests can stop a repair after any one of its
// writes or syncs, or make one fail, and check that the image and its journal still tell the
// truth. Set by the environment of the process that writes (a test runs qcow2-dump with it):
//
//   QCOW2FS_FAULT=OP:N:WHAT   OP is write or sync (every pwrite/fallocate/ftruncate, or every
//                             fsync/fdatasync, of the image and its journal, counted from 1),
//                             WHAT is crash (the process exits at once with status 99 right
//                             after operation N, as a power cut would leave it), eio or enospc
//                             (operation N fails with that errno and does nothing), or stop
//                             (the process stops itself with SIGSTOP right after operation N,
//                             holding its locks, until a test sends SIGCONT).
//
// Nothing is injected when the variable is unset, which is every run but a test's.
#pragma once

#include <cerrno>

namespace qcow2 {

enum class FaultOp { kWrite, kSync };

// Called before an operation: 0 to go on, or the errno the operation must fail with.
int fault_before(FaultOp op);
// Called after an operation that succeeded: exits the process when a crash is due there.
void fault_after(FaultOp op);

inline constexpr int kCrashExitStatus = 99;

}  // namespace qcow2
