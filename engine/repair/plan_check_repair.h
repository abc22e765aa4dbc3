// -R leak | error | all | rebuild: the check's proven values, applied as one plan.
//   1. structural fixes the check proves (reserved bits, flags that cannot be right, lost L2
//      entries re-linked where the layout proves them), until a check of the planned image
//      proposes no more (error, all);
//   2. refcounts from the references of the image as step 1 leaves it (plan_refcounts.h);
//   3. COPIED flags as the refcounts of step 2 leave them, then the dirty and corrupt bits
//      where the check then proposes clearing them.
// Proposals riskier than the command allows (risky for leak; destructive without
// `destructive`) are listed in plan.skipped, one line per code.
#pragma once

#include "engine/repair/command.h"
#include "engine/repair/plan_builder.h"

namespace qcow2 {

Status plan_check_repair(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);

}  // namespace qcow2
