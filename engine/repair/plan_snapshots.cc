#include "engine/repair/plan_snapshots.h"

namespace qcow2 {

// Being built (issue 9): until then both refuse, so that no front pretends to have done them.
Status plan_snapshot_revert(PlanBuilder&, const CheckResult&, const RepairCommand&) {
  return Status::NotSupported("snapshot revert is not built yet");
}
Status plan_snapshot_delete(PlanBuilder&, const CheckResult&, const RepairCommand&) {
  return Status::NotSupported("snapshot delete is not built yet");
}

}  // namespace qcow2
