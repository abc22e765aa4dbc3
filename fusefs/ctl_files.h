// The files of ctl/ on a read-write mount, beside README: one per kind of command (written to)
// and the files that say what became of the last command (read). Their node is
// Node{Kind::kCtlFile, 0, index}, the index being a CtlFile; they exist in every view of a
// read-write mount, and a handle on one stays usable whichever view comes later.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace qcow2fs {

enum class CtlFile : uint8_t {
  // Written to: one command per write() (engine/repair/command.h has the grammar).
  kRepair,
  kSnapshot,
  kBits,
  kPatch,
  kCopy,
  kUndo,
  // Read: what the last command did.
  kPlan,     // its plan as qcow2-dump --dry-run prints it
  kError,    // why it was refused, one line; empty after one that worked
  kJournal,  // the undo journal of the last applied command
  kLast,     // one line: the last command and what became of it ("running" while it runs)
  kCount,
};

inline constexpr uint64_t kCtlFileCount = static_cast<uint64_t>(CtlFile::kCount);

// The file's name in ctl/ ("repair", ..., "last"); index < kCtlFileCount.
inline const char* ctl_file_name(uint64_t index) {
  static constexpr const char* kNames[] = {"repair", "snapshot", "bits",  "patch",   "copy",
                                           "undo",   "plan",     "error", "journal", "last"};
  static_assert(sizeof kNames / sizeof kNames[0] == kCtlFileCount);
  return index < kCtlFileCount ? kNames[index] : "";
}

inline std::optional<uint64_t> ctl_file_index(std::string_view name) {
  for (uint64_t i = 0; i < kCtlFileCount; ++i)
    if (name == ctl_file_name(i)) return i;
  return std::nullopt;
}

// Whether commands are written to it (else it is only read).
inline bool ctl_is_command(uint64_t index) { return index <= static_cast<uint64_t>(CtlFile::kUndo); }

}  // namespace qcow2fs
