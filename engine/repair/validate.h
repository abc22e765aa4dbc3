// Every plan is validated before a byte is written:
// - each edit's old bytes are what the file holds now, and no two edits overlap;
// - each edit lies inside a structure of the role it claims, as the check found the clusters:
//   an L2 edit only inside that L2 table, a refcount edit only inside a refcount block, header
//   fields only in the header cluster; new structures only at or past the end of the file,
//   never in a cluster the check calls free (it may hold what a damaged entry lost) or data;
// - applied to an overlay of the file (nothing is written), the image it leaves is checked:
//   plan.remaining lists what that check still reports.
#pragma once

#include "engine/check/checker.h"
#include "engine/io/image.h"
#include "engine/repair/plan.h"

namespace qcow2 {

// Refuses (kInvalidArgument, naming the first edit at fault and why) a plan that breaks a rule;
// fills plan.remaining otherwise. `check` is the check of `img` the plan was made from.
// `planned_findings`, when given, are those of a check of the image exactly as the plan leaves
// it (the planner's last one): the plan is then not checked again.
Status validate_plan(const Image& img, const CheckResult& check, Plan& plan,
                     const std::vector<Finding>* planned_findings = nullptr);

// The check of the image as `plan` would leave it, through an overlay. Planners see more
// findings per code than a report lists (kPlanFindingsPerCode), so that one plan can answer
// them all; `planned` receives the image read through the overlay, which reads the plan's
// bytes where they are: the plan must outlive it.
inline constexpr size_t kPlanFindingsPerCode = size_t{1} << 18;
Result<CheckResult> check_as_planned(const Image& img, const Plan& plan, std::unique_ptr<Image>& planned);

}  // namespace qcow2
