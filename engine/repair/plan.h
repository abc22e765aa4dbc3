// A repair is a plan first: an ordered list of edits, each with the bytes it expects to find,
// the bytes it writes, the structure it writes into and the finding it answers; and the file's
// size before and after (new structures go past the end of the file, never into a cluster
// the check calls free: a free cluster may hold the data a damaged entry lost). A plan is
// computed as a whole, validated (validate.h), and applied exactly (apply.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/check/finding.h"
#include "engine/format/role.h"

namespace qcow2 {

struct Edit {
  uint64_t offset = 0;
  // What the file holds there now; empty for bytes appended past its end (undone by cutting
  // the file back to its size before the plan).
  std::vector<uint8_t> old_bytes;
  std::vector<uint8_t> new_bytes;
  Role role = Role::kFree;  // the structure written into; kFree for new clusters past the end
  std::string code;         // the finding it answers, or the repair's own name
  std::string why;
  Risk risk = Risk::kSafe;
  // The user named these bytes (a patch, a copy): they may lie in any structure, guest data
  // too; `risk` says what that may cost.
  bool user_named = false;
  // A hole punched (fallocate) instead of a write: new_bytes are the zeros it reads as. Only
  // -R discard makes them, in clusters nothing references.
  bool punch = false;

  bool appended() const { return old_bytes.empty(); }
};

struct Plan {
  std::string what;  // "repair leaks", "rebuild the refcount structure", "delete snapshot 2", ...
  std::vector<Edit> edits;  // in the order they are written
  uint64_t size_before = 0;
  uint64_t size_after = 0;
  // What the check still reports once the plan is applied (validate_plan fills it from a check
  // of the image as the plan leaves it): "code: message" lines.
  std::vector<std::string> remaining;
  // Why findings the plan was asked to fix got no edit (a destructive step not asked for, a
  // suspect finding, no proposal): one line each.
  std::vector<std::string> skipped;

  bool empty() const { return edits.empty() && size_after == size_before; }
  Risk risk() const;

};

// The big-endian bytes of `value` in `width` bytes.
std::vector<uint8_t> be_bytes(uint64_t value, unsigned width);

}  // namespace qcow2
