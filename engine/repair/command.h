// What a user asks a repair to do, from either front: qcow2-dump's options (-R, -A, -D, -E,
// -M, -C, -m edit, -m copy) or one line written to a control file of the mount. Both fronts
// build a RepairCommand; make_plan (make_plan.h) turns it into a plan.
//
// The control-file grammar (one command per write; words separated by blanks; numbers decimal
// or 0x-hex; a leading "plan" makes it a dry run):
//   ctl/repair    leak | error | all | reuse | rebuild | discard   [destructive]
//   ctl/snapshot  revert SNAP | delete SNAP | delete all | keep SNAP | keep 0
//   ctl/bits      set corrupt|dirty | clear corrupt|dirty
//   ctl/patch     OFFSET VALUE [WIDTH]  |  FIELD... VALUE
//                 FIELD: header.NAME | l1 I | l2 I J | reftable I | refcount CLUSTER
//   ctl/copy      DST SRC LENGTH [FILE]
//   ctl/undo      JOURNAL
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/status.h"

namespace qcow2 {

enum class RepairKind : uint8_t {
  kLeaks,       // -R leak: refcounts of leaked clusters lowered to their references
  kErrors,      // -R error: refcounts raised, COPIED flags, lost entries re-linked, bad pointers
  kAll,         // -R all: both
  kReuse,       // -R reuse: a cluster two active entries use gets a copy for the extra one
  kRebuild,     // -R rebuild: a whole new refcount structure from the references
  kDiscard,     // -R discard: holes punched where nothing references a cluster (destructive)
  kRevert,      // -A SNAP: the active L1 and the snapshot's swapped
  kDelete,      // -D SNAP|all
  kKeepOnly,    // -E SNAP|0
  kSetBit,      // -M corrupt|dirty
  kClearBit,    // -C corrupt|dirty
  kPatch,       // -m edit: WIDTH bytes at OFFSET, or a field by name
  kCopy,        // -m copy: LENGTH bytes from SRC (of FILE, or the image) to DST
  kUndo,        // --undo JOURNAL (not a plan: undo_repair does it)
};

const char* repair_kind_name(RepairKind k);

struct RepairCommand {
  RepairKind kind = RepairKind::kAll;
  bool dry_run = false;
  // Let the -R repairs take destructive steps too (free leaked clusters that hold data, clear
  // the dirty bit with damage left). Without it those are listed as skipped.
  bool destructive = false;
  std::string snapshot;  // kRevert, kDelete, kKeepOnly: id, name, snapshot[N]; "all" / "0"
  std::string bit;       // kSetBit, kClearBit: "corrupt" or "dirty"
  // kPatch: either a field name (words: "header.l1_size", "l2 69 674") or an offset.
  std::vector<std::string> field;
  uint64_t offset = 0;
  uint64_t value = 0;
  unsigned width = 8;
  // kCopy
  uint64_t source = 0;
  uint64_t length = 0;
  std::string source_file;
  std::string journal;  // kUndo
};

// The control file each kind is written to ("repair", "snapshot", "bits", "patch", "copy", "undo").
const char* control_file_of(RepairKind k);

// Parses one line written to control file `file`. Refuses (kInvalidArgument, with the
// grammar) anything else: a bad word, a number that does not parse, extra words.
Result<RepairCommand> parse_control_line(std::string_view file, std::string_view line);

// A number as qcow2-dump takes it: decimal or 0x-hex, the whole string, no overflow.
std::optional<uint64_t> parse_number(std::string_view s);

// The grammar of every control file, for ctl/README and errors.
const char* control_grammar();

}  // namespace qcow2
