// Refcounts made what the references call for, for -R leak, error, all and rebuild: every
// cluster's target is computed from the counted references (not from the findings, which a
// report caps), then written in place where the refcount structure can hold it, or as a whole
// new structure past the end of the file, with the header switched to it by one write.
//
// What is never lowered, whatever the command: a cluster two structures share (the cross-link
// finding stays, for -R reuse), one only a suspect table references. What is lowered only
// with `destructive`: a leaked cluster that holds data (it may be what a damaged entry lost),
// and any leak while some pointer was not followed (it may still need the cluster). A plan
// that removes references itself (a snapshot deleted) names the counts from before it
// (`released_from`): a cluster it took references from goes down to what is left, to 0
// whatever it holds, since the command asked for exactly that.
#pragma once

#include "engine/check/ref_counter.h"
#include "engine/repair/plan_builder.h"

namespace qcow2 {

struct RefcountPolicy {
  bool lower = true;         // leaks
  bool raise = true;         // errors (and a rebuild where the structure cannot hold them)
  bool destructive = false;  // lower also where data may be lost
  bool rebuild = false;      // a new structure even where the old one could be patched
  // Clusters several referrers share get refcounts for all of them (after -R reuse has given
  // the extra active users copies, what shares them is snapshots, legitimately).
  bool trust_shared = false;
  // The references counted before the plan removed some (the original check's counts), or
  // null. A cluster with fewer references now than then was released by the plan: its
  // refcount may go down to its references, to 0 even where it holds data (while some
  // pointer is not followed, only with `destructive`). Every other cluster is treated as
  // above. Must outlive the call.
  const RefCounter* released_from = nullptr;
};

// Adds the refcount edits to `b`'s plan; `planned` is the check of the image as the plan
// leaves it so far (b.check_planned()). Lines for what was held back go to plan.skipped.
Status plan_refcounts(PlanBuilder& b, const CheckResult& planned, const RefcountPolicy& policy);

}  // namespace qcow2
