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
  std::map<std::string, uint64_t> held;  // code -> proposals held back by their risk
  std::map<std::string, uint64_t> contested;
};

// Takes the proposals of `check` that belong to `phase` into the plan; the number taken.
Result<size_t> take(PlanBuilder& b, const CheckResult& check, const RoleIndex& roles, Phase phase, Gate& gate,
                    const RepairCommand& cmd) {
  size_t taken = 0;
  for (const Finding& f : check.findings) {
    if (!f.proposed || !f.file_offset || f.suspect || refcount_code(f.code)) continue;
    if ((phase == Phase::kFlags) != flag_code(f.code)) continue;
    if (cmd.kind == RepairKind::kLeaks && f.code == "header-corrupt-bit") continue;
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

Result<const CheckResult*> planned_check(PlanBuilder& b) { return b.check_planned(); }

}  // namespace

Status plan_check_repair(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  if (!check.counts || !check.layout)
    return Status::InvalidArgument("the image cannot be walked (see the header findings): only patches, bits and "
                                   "snapshot commands can be planned");
  const uint32_t bits = b.image().geometry().cluster_bits;
  const RoleIndex roles(check, bits);  // roles as the image is: where the plan may write
  Gate gate;
  gate.allowed = cmd.destructive ? Risk::kDestructive : Risk::kRisky;
  const bool structural = cmd.kind == RepairKind::kErrors || cmd.kind == RepairKind::kAll;

  const CheckResult* now = &check;
  if (structural) {
    for (int round = 0; round < 4; ++round) {
      QCOW2_ASSIGN_OR_RETURN(const size_t n, take(b, *now, roles, Phase::kStructure, gate, cmd));
      if (n == 0) break;
      QCOW2_ASSIGN_OR_RETURN(now, planned_check(b));
    }
  }
  // With nothing planned yet, the image as planned is the image, and `check` its check; a
  // caller that planned before (-R reuse) gets its plan checked.
  if (now == &check && !b.plan().empty()) {
    QCOW2_ASSIGN_OR_RETURN(now, planned_check(b));
  }

  RefcountPolicy p;
  p.lower = cmd.kind != RepairKind::kErrors;
  p.raise = cmd.kind != RepairKind::kLeaks;
  p.destructive = cmd.destructive;
  p.rebuild = cmd.kind == RepairKind::kRebuild;
  p.trust_shared = cmd.kind == RepairKind::kReuse;
  QCOW2_RETURN_IF_ERROR(plan_refcounts(b, *now, p));

  for (int round = 0; round < 4; ++round) {
    QCOW2_ASSIGN_OR_RETURN(now, planned_check(b));
    QCOW2_ASSIGN_OR_RETURN(const size_t n, take(b, *now, roles, Phase::kFlags, gate, cmd));
    if (n == 0) break;
  }
  for (const auto& [code, n] : gate.held)
    b.plan().skipped.push_back(fmt::format("{} proposals of {} are destructive: add 'destructive' (--destructive) to "
                                           "take them",
                                           n, code));
  for (const auto& [code, n] : gate.contested)
    b.plan().skipped.push_back(
        fmt::format("{} proposals of {} write where structures meet or outside the metadata: not taken", n, code));
  return Status::Ok();
}

}  // namespace qcow2
