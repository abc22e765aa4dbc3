// Applying a validated plan, exactly and crash-safe:
//  1. the undo journal is written (the image's identity, every old byte, a CRC on each part)
//     and synced with its directory; a journal path that exists is refused, and so is a plan
//     the file systems have no room for;
//  2. the image's corrupt bit is set and synced (version 3), so no VM opens it mid-repair;
//  3. the edits are written, in order, then fdatasync;
//  4. incompatible_features is written as the plan leaves it, then fsync;
//  5. the journal is marked applied.
// All of it under QEMU's write locks (io/image_writer.h). A crash at any point leaves the image
// as it was (before step 2), or undoable from the journal (undo.h) whatever was written.
// Undoing writes a journal of its own, so that an undo can be undone.
#pragma once

#include <string>

#include "engine/io/image_writer.h"
#include "engine/repair/journal_format.h"
#include "engine/repair/plan.h"
#include "engine/util/status.h"

namespace qcow2 {

struct ApplyResult {
  std::string journal;   // where the undo journal is
  uint64_t written = 0;  // bytes written into the image
  std::string warning;   // done, but something the user should know (a journal marker not written)
};

// `plan` must have been validated against the image as it is now; `w` (read-write) holds the
// image's locks from before the check the plan was made from until the repair is done.
Result<ApplyResult> apply_plan(ImageWriter& w, const Plan& plan, const std::string& journal_path);

// Puts the image back as it was before the repair `journal_path` records, byte for byte and to
// its size, after checking that the journal belongs to this image (its identity and every
// record's bytes match what the image holds, before or after the repair) and that its records
// pass their checksums; refuses and changes nothing otherwise. The undo's own journal goes to
// `undo_journal_path`.
Result<ApplyResult> undo_repair(ImageWriter& w, const std::string& journal_path, const std::string& undo_journal_path);

// The default journal path for a repair of `image_path`: beside it, stamped with the time.
std::string default_journal_path(const std::string& image_path);

}  // namespace qcow2
