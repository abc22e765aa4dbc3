// A whole repair as both fronts run it: take QEMU's locks, check the image, plan, validate,
// apply with its journal (or stop at the plan for a dry run), then check again. The locks
// are held from before the first check until after the last, so that what was planned is
// what is written and no VM starts on the image in between.
#pragma once

#include <memory>
#include <string>

#include "engine/check/checker.h"
#include "engine/repair/apply.h"
#include "engine/repair/command.h"
#include "engine/repair/plan.h"

namespace qcow2 {

struct RepairOptions {
  std::string journal;        // where the undo journal goes; empty: beside the image
  bool skip_backing = false;  // -b: the backing file need not exist
};

struct RepairOutcome {
  Plan plan;
  bool applied = false;  // false for a dry run, or an empty plan
  std::string journal;   // the undo journal written, when applied
  std::string warning;   // applied, but see this
  // The image after the repair (applied), or as the plan would leave it (dry run), and its
  // check (which refers to it: the image is declared first, so it outlives the check).
  std::unique_ptr<Image> after_image;
  CheckResult after;
};

// kBusy when a process holds QEMU's locks; kInvalidArgument / kNotFound for a command that
// does not fit the image; kIOError when writing fails (the image is then as before, or its
// journal undoes what was written: the message says which).
Result<RepairOutcome> run_repair(const std::string& image_path, const RepairCommand& cmd, const RepairOptions& opt);

// Undoes the repair `journal` records (undo_repair), its own journal at opt.journal or beside
// the image; `after` is the check of the image as the undo leaves it.
Result<RepairOutcome> run_undo(const std::string& image_path, const std::string& journal, const RepairOptions& opt);

}  // namespace qcow2
