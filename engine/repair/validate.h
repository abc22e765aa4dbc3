// Every plan is validated before a byte is written:
// - each edit's old bytes are what the file holds now, and no two edits overlap;
// - each edit lies inside a structure of the role it claims, as the check found the clusters:
//   an L2 edit only inside that L2 table, a refcount edit only inside a refcount block, header
//   fields only in the header cluster; new structures only at or past the end of the file,
//   never in a cluster the check calls free (it may hold what a damaged entry lost) or data;
// - applied to an overlay of the file (nothing is written), the image it leaves is checked:
//   plan.remaining lists what that check still reports.
#pragma once

#include <algorithm>

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
// findings per code than a report lists (plan_findings_per_code), so that one plan can answer
// them all; `planned` receives the image read through the overlay, which reads the plan's
// bytes where they are: the plan must outlive it.
inline constexpr size_t kPlanFindingsPerCode = size_t{1} << 18;
// Findings per code a planner's check keeps for a file of `file_size` bytes: one per 4 KiB
// of file (a finding costs about 1 KiB), at least what a report lists and at most
// kPlanFindingsPerCode. A small file whose bytes make 500,000 findings (a too-large l1_size
// reading garbage as tables) must not cost 800 MB; what one plan cannot take, the plan lists
// as remaining and the next run takes.
inline size_t plan_findings_per_code(uint64_t file_size) {
  const uint64_t n = file_size >> 12;
  return static_cast<size_t>(std::min<uint64_t>(std::max<uint64_t>(n, kMaxFindingsPerCode), kPlanFindingsPerCode));
}
Result<CheckResult> check_as_planned(const Image& img, const Plan& plan, std::unique_ptr<Image>& planned);

}  // namespace qcow2
