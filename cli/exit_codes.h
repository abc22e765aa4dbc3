// qcow2-dump's exit statuses. 1-4 belong to the check mode (leaks, COPIED mismatch, corrupt
// flag only, refcount errors); tool failures start at 64 as in sysexits.h.
#pragma once

namespace qcow2::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitSnapshotTable = 5;  // snapshot table damaged; the rest was printed
inline constexpr int kExitHeader = 6;         // a header field has an error or fatal problem
inline constexpr int kExitUsage = 64;         // bad option, unknown snapshot
inline constexpr int kExitNotQcow2 = 65;      // wrong magic, empty, too short, unknown version
inline constexpr int kExitCannotOpen = 66;    // missing, unreadable, a directory, read failure
inline constexpr int kExitInternal = 70;      // a bug, or a failed write to stdout
inline constexpr int kExitRepairFailed = 74;  // a repair's write failed (EX_IOERR): as before, or undoable
inline constexpr int kExitInUse = 75;         // a running VM writes the image (EX_TEMPFAIL); -U goes on

}  // namespace qcow2::cli
