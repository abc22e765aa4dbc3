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
#include "engine/repair/plan_refcounts.h"

namespace qcow2 {

Status plan_check_repair(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);

// Steps 2 and 3 for a planner that has made its own edits (a snapshot deleted): refcounts
// from the references of the image as `b`'s plan leaves it, as `policy` says, then the flags
// those refcounts call for. `check` is the check of the image as it is (flags are written
// only where it finds metadata); proposals over `allowed` go to plan.skipped.
Status plan_refcounts_then_flags(PlanBuilder& b, const CheckResult& check, const RefcountPolicy& policy, Risk allowed);

// Step 3 alone, for a plan that changes no reference (a revert): the COPIED flags (and the
// dirty and corrupt bits) the check of the image as `b`'s plan leaves it proposes.
Status plan_flags(PlanBuilder& b, const CheckResult& check, Risk allowed);

}  // namespace qcow2
