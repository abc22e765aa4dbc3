// One entry point for both fronts: a command (command.h) and the check of the image as it is
// now become a validated plan (validate.h), ready for apply_plan or to be printed as a dry run.
#pragma once

#include "engine/check/checker.h"
#include "engine/repair/command.h"
#include "engine/repair/plan.h"

namespace qcow2 {

// Refuses (kInvalidArgument for a command that cannot apply to this image, kNotFound for an
// unknown snapshot, table or field) with one line naming what is wrong. kUndo is not a plan.
Result<Plan> make_plan(const Image& img, const CheckResult& check, const RepairCommand& cmd);

}  // namespace qcow2
