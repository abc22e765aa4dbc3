#include "engine/repair/make_plan.h"

#include <fmt/format.h>

#include <optional>

#include "engine/repair/plan_builder.h"
#include "engine/repair/plan_check_repair.h"
#include "engine/repair/plan_edits.h"
#include "engine/repair/plan_space.h"
#include "engine/repair/plan_snapshots.h"
#include "engine/repair/validate.h"

namespace qcow2 {
namespace {

std::string what_of(const RepairCommand& cmd) {
  switch (cmd.kind) {
    case RepairKind::kLeaks: return "repair leaks";
    case RepairKind::kErrors: return "repair errors";
    case RepairKind::kAll: return "repair all";
    case RepairKind::kReuse: return "give reused clusters their own copies";
    case RepairKind::kRebuild: return "rebuild the refcount structure";
    case RepairKind::kDiscard: return "discard unreferenced clusters";
    case RepairKind::kRevert: return fmt::format("revert to snapshot {}", cmd.snapshot);
    case RepairKind::kDelete: return fmt::format("delete snapshot {}", cmd.snapshot);
    case RepairKind::kKeepOnly: return cmd.snapshot == "0" ? "delete every snapshot" : fmt::format("keep only snapshot {}", cmd.snapshot);
    case RepairKind::kSetBit: return fmt::format("set the {} bit", cmd.bit);
    case RepairKind::kClearBit: return fmt::format("clear the {} bit", cmd.bit);
    case RepairKind::kPatch: return "patch";
    case RepairKind::kCopy: return "copy";
    case RepairKind::kUndo: return "undo";
  }
  return "?";
}

}  // namespace

Result<Plan> make_plan(const Image& img, const CheckResult& check, const RepairCommand& cmd) {
  PlanBuilder b(img, what_of(cmd));
  switch (cmd.kind) {
    case RepairKind::kLeaks:
    case RepairKind::kErrors:
    case RepairKind::kAll:
    case RepairKind::kRebuild: QCOW2_RETURN_IF_ERROR(plan_check_repair(b, check, cmd)); break;
    case RepairKind::kReuse: QCOW2_RETURN_IF_ERROR(plan_reuse(b, check, cmd)); break;
    case RepairKind::kDiscard: QCOW2_RETURN_IF_ERROR(plan_discard(b, check, cmd)); break;
    case RepairKind::kRevert: QCOW2_RETURN_IF_ERROR(plan_snapshot_revert(b, check, cmd)); break;
    case RepairKind::kDelete:
    case RepairKind::kKeepOnly: QCOW2_RETURN_IF_ERROR(plan_snapshot_delete(b, check, cmd)); break;
    case RepairKind::kSetBit:
    case RepairKind::kClearBit: QCOW2_RETURN_IF_ERROR(plan_feature_bit(b, check, cmd)); break;
    case RepairKind::kPatch: QCOW2_RETURN_IF_ERROR(plan_patch(b, check, cmd)); break;
    case RepairKind::kCopy: QCOW2_RETURN_IF_ERROR(plan_copy(b, check, cmd)); break;
    case RepairKind::kUndo: return Status::InvalidArgument("an undo is not a plan: use undo_repair");
  }
  // The planner's last check is of the plan as it stands: no need to check it again.
  std::optional<std::vector<Finding>> planned;
  if (b.planned_is_current()) planned = b.planned_check().findings;
  Plan plan = b.finish();
  QCOW2_RETURN_IF_ERROR(validate_plan(img, check, plan, planned ? &*planned : nullptr));
  return plan;
}

}  // namespace qcow2
