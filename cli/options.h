// qcow2-dump's command line.
#pragma once

#include <optional>
#include <string>

namespace qcow2::cli {

enum class Mode { kInfo, kCheck, kError, kDump, kEdit, kCopy };

struct Options {
  Mode mode = Mode::kCheck;  // the old tool's default
  bool header_layout = false;  // -H
  std::string snapshot = "all";  // -s: active, inactive, all, or a snapshot id or name
  std::string output = "all";    // -o: refcount, snapshot, all; or json (check modes)
  bool flags = false;            // -f
  std::string display;           // -d: color, off (none); empty = decide by the terminal
  bool base = false;             // -b: skip the backing-file existence check
  bool force_share = false;      // -U: inspect an image a running VM holds for writing
  bool compress = false;         // -c: accepted for the well-known tool's scripts; compressed
                                 // clusters are always decoded
  bool prealloc = false;         // -p: list data clusters away from the preallocated layout
  bool nocache = false;          // -N: drop the image's page cache before reading it
  bool dmesg = false;            // -K: also write the check's result to the kernel log
  bool quiet = false;            // -q: no progress line
  std::string image;

  // Writing (each DANGEROUS in --help): at most one of them per run.
  std::string repair;        // -R leak|error|all|reuse|rebuild|discard (check/off: no repair)
  std::string apply;         // -A SNAP: revert to the snapshot
  std::string delete_snap;   // -D SNAP|all
  std::string keep_only;     // -E SNAP|0
  std::string mark;          // -M corrupt|dirty
  std::string clean;         // -C corrupt|dirty
  std::optional<std::string> offset, value, source, length;  // -O -V -S -L (edit, copy)
  std::string field;         // --field: a field by name for -m edit
  std::string source_file;   // -F: copy from this file
  std::string undo;          // --undo JOURNAL
  bool dry_run = false;      // --dry-run: print the plan, write nothing
  bool destructive = false;  // --destructive: let -R take destructive steps too
  std::string journal;       // --journal PATH
  bool lock = false;         // -l: hold QEMU's locks on read-only runs too

  // A run that writes (or would, with --dry-run).
  bool writes() const {
    return !repair.empty() && repair != "check" && repair != "off" ? true
           : !apply.empty() || !delete_snap.empty() || !keep_only.empty() || !mark.empty() || !clean.empty() ||
                 !undo.empty() || mode == Mode::kEdit || mode == Mode::kCopy;
  }

  bool json() const { return output == "json"; }
  bool print_tables() const { return output != "refcount"; }
  bool print_refcounts() const { return output != "snapshot"; }
  // Colour only on a terminal, never in dump mode and not when NO_COLOR is set (non-empty),
  // unless -d color asks for it.
  bool color(bool stdout_is_tty) const;
};

// Parses argv. Returns the exit code when the run is already over (help, version, a usage
// error reported on stderr), nothing when the caller should go on.
std::optional<int> parse_options(int argc, char** argv, Options& opt);

const char* mode_name(Mode m);

}  // namespace qcow2::cli
