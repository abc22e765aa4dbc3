// qcow2-dump's command line.
#pragma once

#include <optional>
#include <string>

namespace qcow2::cli {

enum class Mode { kInfo, kCheck, kError, kDump };

struct Options {
  Mode mode = Mode::kCheck;  // the old tool's default
  bool header_layout = false;  // -H
  std::string snapshot = "all";  // -s: active, inactive, all, or a snapshot id or name
  std::string output = "all";    // -o: refcount, snapshot, all; or json (check modes)
  bool flags = false;            // -f
  std::string display;           // -d: color, off (none); empty = decide by the terminal
  bool base = false;             // -b: skip the backing-file existence check
  bool force_share = false;      // -U: inspect an image a running VM holds for writing
  std::string image;

  bool json() const { return output == "json"; }
  bool print_tables() const { return output != "refcount"; }
  bool print_refcounts() const { return output != "snapshot"; }
  // Colour only on a terminal and never in dump mode, unless -d color asks for it.
  bool color(bool stdout_is_tty) const;
};

// Parses argv. Returns the exit code when the run is already over (help, version, a usage
// error reported on stderr), nothing when the caller should go on.
std::optional<int> parse_options(int argc, char** argv, Options& opt);

const char* mode_name(Mode m);

}  // namespace qcow2::cli
