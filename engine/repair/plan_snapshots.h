// Snapshot repairs: -A (revert), -D (delete one or all), -E (keep one, or none).
//
// Revert swaps the active L1 pointer and size (header bytes 36..47) with the snapshot's
// (its table entry's l1_table_offset and l1_size), as the well-known tool does: no L1 is
// copied and nothing is freed, so the damaged active state stays reachable as that snapshot;
// it works when the active tables are too damaged for QEMU. COPIED flags are then fixed in
// the same plan (the refcounts say which entries are shared).
//
// Delete and keep-only write a new snapshot table past the end of the file (every kept entry
// byte-exact, extra data included), switch nb_snapshots and snapshots_offset (header bytes
// 60..71) in one write, and lower the refcounts of what only the removed snapshots
// referenced (their L1 tables, L2 tables and data; the old table), freeing nothing another
// snapshot or the active image still uses. Destructive: the removed snapshots' data is gone.
//
// SNAP matches a snapshot exactly by id, then by name, or "snapshot[N]" (entry N); an
// ambiguous or unknown one is kNotFound.
#pragma once

#include "engine/repair/command.h"
#include "engine/repair/plan_builder.h"

namespace qcow2 {

Status plan_snapshot_revert(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);
Status plan_snapshot_delete(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);  // kDelete, kKeepOnly

}  // namespace qcow2
