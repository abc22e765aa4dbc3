#include "engine/repair/plan_check_repair.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "engine/repair/plan_refcounts.h"
#include "engine/repair/role_index.h"

namespace qcow2 {
namespace {

enum class Phase { kStructure, kFlags };

bool refcount_code(const std::string& c) {
  return c == "refcount-leak" || c == "refcount-error" || c == "refcount-zero" || c == "refcount-past-eof";
}
bool flag_code(const std::string& c) {
  return c == "copied-l1" || c == "copied-l2" || c == "copied-follows" || c == "header-dirty-bit" ||
         c == "header-corrupt-bit";
}

struct Gate {
  Risk allowed = Risk::kRisky;
  bool corrupt_bit = true;  // whether clearing the corrupt bit may be taken (not for -R leak)
  std::map<std::string, uint64_t> held;  // code -> proposals held back by their risk
  std::map<std::string, uint64_t> contested;
};

// Takes the proposals of `check` that belong to `phase` into the plan; the number taken.
Result<size_t> take(PlanBuilder& b, const CheckResult& check, const RoleIndex& roles, Phase phase, Gate& gate) {
  size_t taken = 0;
  for (const Finding& f : check.findings) {
    if (!f.proposed || !f.file_offset || f.suspect || refcount_code(f.code)) continue;
    if ((phase == Phase::kFlags) != flag_code(f.code)) continue;
    if (!gate.corrupt_bit && f.code == "header-corrupt-bit") continue;
    if (f.risk > gate.allowed) {
      ++gate.held[f.code];
      continue;
    }
    const std::optional<Role> role = roles.role_of(*f.file_offset, f.width);
    if (!role || (!is_metadata(*role) && *role != Role::kHeader)) {
      ++gate.contested[f.code];
      continue;
    }
    QCOW2_ASSIGN_OR_RETURN(const bool changed, b.set_bits(*f.file_offset, f.width, f.mask, *f.proposed, *role, f.code,
                                                          f.message, f.risk));
    taken += changed;
  }
  return taken;
}

// Step 3: flags as the plan so far leaves the refcounts. A check names the referrers of at
// most CheckOptions::max_suspects clusters, so a revert of a large disk may need several
// rounds; each takes only what the last check proposed.
Status take_flags(PlanBuilder& b, const RoleIndex& roles, Gate& gate) {
  for (int round = 0; round < 64; ++round) {
    QCOW2_ASSIGN_OR_RETURN(const CheckResult* now, b.check_planned());
    QCOW2_ASSIGN_OR_RETURN(const size_t n, take(b, *now, roles, Phase::kFlags, gate));
    if (n == 0) break;
  }
  return Status::Ok();
}

void gate_lines(const Gate& gate, Plan& plan) {
  for (const auto& [code, n] : gate.held)
    plan.skipped.push_back(fmt::format("{} proposals of {} are destructive: add 'destructive' (--destructive) to "
                                       "take them",
                                       n, code));
  for (const auto& [code, n] : gate.contested)
    plan.skipped.push_back(
        fmt::format("{} proposals of {} write where structures meet or outside the metadata: not taken", n, code));
}

// `now`: the check of the image as the plan leaves it, when the caller has just made it.
Status refcounts_then_flags(PlanBuilder& b, const RoleIndex& roles, const RefcountPolicy& p, Gate& gate,
                            const CheckResult* now = nullptr) {
  if (!now) {
    QCOW2_ASSIGN_OR_RETURN(now, b.check_planned());
  }
  QCOW2_RETURN_IF_ERROR(plan_refcounts(b, *now, p));
  return take_flags(b, roles, gate);
}

}  // namespace

Status plan_check_repair(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  if (!check.counts || !check.layout)
    return Status::InvalidArgument("the image cannot be walked (see the header findings): only patches, bits and "
                                   "snapshot commands can be planned");
  const uint32_t bits = b.image().geometry().cluster_bits;
  const RoleIndex roles(check, bits);  // roles as the image is: where the plan may write
  Gate gate;
  gate.allowed = cmd.destructive ? Risk::kDestructive : Risk::kRisky;
  gate.corrupt_bit = cmd.kind != RepairKind::kLeaks;
  const bool structural = cmd.kind == RepairKind::kErrors || cmd.kind == RepairKind::kAll;

  // With nothing planned yet, the image as planned is the image and `check` its check; a
  // caller that planned before (-R reuse) gets its plan checked.
  const CheckResult* now = &check;
  if (structural) {
    for (int round = 0; round < 4; ++round) {
      QCOW2_ASSIGN_OR_RETURN(const size_t n, take(b, *now, roles, Phase::kStructure, gate));
      if (n == 0) break;
      QCOW2_ASSIGN_OR_RETURN(now, b.check_planned());
    }
  }
  if (now == &check && !b.plan().empty()) {
    QCOW2_ASSIGN_OR_RETURN(now, b.check_planned());
  }

  RefcountPolicy p;
  p.lower = cmd.kind != RepairKind::kErrors;
  p.raise = cmd.kind != RepairKind::kLeaks;
  p.destructive = cmd.destructive;
  p.rebuild = cmd.kind == RepairKind::kRebuild;
  p.trust_shared = cmd.kind == RepairKind::kReuse;
  QCOW2_RETURN_IF_ERROR(refcounts_then_flags(b, roles, p, gate, now));
  gate_lines(gate, b.plan());
  return Status::Ok();
}

Status plan_refcounts_then_flags(PlanBuilder& b, const CheckResult& check, const RefcountPolicy& policy, Risk allowed) {
  if (!check.counts || !check.layout) return Status::InvalidArgument("the image cannot be walked: no refcounts can be planned");
  const RoleIndex roles(check, b.image().geometry().cluster_bits);
  Gate gate;
  gate.allowed = allowed;
  QCOW2_RETURN_IF_ERROR(refcounts_then_flags(b, roles, policy, gate));
  gate_lines(gate, b.plan());
  return Status::Ok();
}

Status plan_flags(PlanBuilder& b, const CheckResult& check, Risk allowed) {
  if (!check.layout) return Status::InvalidArgument("the image cannot be walked: no flags can be planned");
  const RoleIndex roles(check, b.image().geometry().cluster_bits);
  Gate gate;
  gate.allowed = allowed;
  QCOW2_RETURN_IF_ERROR(take_flags(b, roles, gate));
  gate_lines(gate, b.plan());
  return Status::Ok();
}

}  // namespace qcow2
