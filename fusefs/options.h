// qcow2fs's command line: IMAGE MOUNTPOINT [-f] [-d] [-b] [-U] [-o opt[,opt...]]...
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qcow2fs {

// sysexits-style exit statuses, as qcow2-dump uses them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;       // bad option, missing argument, mountpoint not a directory
inline constexpr int kExitNotQcow2 = 65;    // the image is not qcow2 at all
inline constexpr int kExitCannotOpen = 66;  // missing, unreadable, not a regular file
inline constexpr int kExitMount = 71;       // FUSE refused: no /dev/fuse, mount failed
inline constexpr int kExitInUse = 75;       // a VM writes the image (EX_TEMPFAIL: try later, or -U)

struct Options {
  std::string image;
  std::string mountpoint;
  bool foreground = false;
  bool debug = false;
  bool read_only = true;  // -o ro (the default) or -o rw
  bool allow_other = false;
  bool base = false;         // -b: do not require the backing file to exist
  bool force_share = false;  // -U: mount even while a VM writes the image
  size_t max_open_text = 512u << 20;  // -o max_open_text=SIZE
  std::string test_hold_check;        // -o test_hold_check=PATH (for the mount tests)
  bool test_fail_check = false;       // -o test_fail_check (for the mount tests)
  std::string test_hold_repair;       // -o test_hold_repair=PATH (for the mount tests)
  std::vector<std::string> passthrough;  // other -o options, handed to libfuse
};

// Parses argv; returns an exit status when the program should stop (help, version, error,
// after printing one line to stderr), nothing to go on.
std::optional<int> parse_options(int argc, char** argv, Options& opt);

// Prints "qcow2fs: <message>" to stderr and returns `code`.
int fail(int code, const std::string& message);

}  // namespace qcow2fs
