// Repairs of where guest data lives.
//
// -R reuse: a data cluster that several active L2 entries use (its refcount too low, so QEMU
// handed it out again) is kept by the first of them in table order; each further one gets a
// copy of it past the end of the file and is repointed there. Then refcounts and COPIED flags
// as the references leave them, so the plan leaves a clean image. Risky: what the cluster
// holds is the last writer's data; the others' is already lost, and the repair stops them
// overwriting each other from now on.
//
// -R discard: clusters nothing references and whose refcount is 0, inside the file, get a
// hole punched (the file keeps its size). Destructive: such a cluster may hold what a damaged
// entry lost. Clusters already holes, or all zeros, are left alone.
#pragma once

#include "engine/repair/command.h"
#include "engine/repair/plan_builder.h"

namespace qcow2 {

Status plan_reuse(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);
Status plan_discard(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);

}  // namespace qcow2
