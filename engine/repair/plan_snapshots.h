// Snapshot repairs: -A (revert), -D (delete one or all), -E (keep one, or none).
//
// Revert swaps the active L1 pointer and size (header bytes 36..47) with the snapshot's
// (its table entry's l1_table_offset and l1_size), as the well-known tool does: no L1 is
// copied and nothing is freed, so the damaged active state stays reachable as that snapshot;
// it works when the active tables are too damaged for QEMU. Where the snapshot's disk_size
// differs from the header's size, the sizes are swapped too (the header written as one edit
// of bytes 24..47): the image gets the snapshot's size, as QEMU's revert gives it, and the
// entry keeps the old active size beside the old active L1. The entry's VM state sizes become
// 0 (the old active state has none), and persistent bitmaps are marked IN_USE (they no
// longer say what changed; QEMU refuses a revert with dirty bitmaps for that reason). A
// revert is its own inverse: the same command again swaps back. Refused: a snapshot whose L1
// cannot be read or is shared with another entry, an L1 too small for the disk, a size change
// while bitmaps exist. COPIED flags are then fixed in the same plan (the refcounts say which
// entries are shared); damage the old active tables held is what plan.remaining lists.
//
// Delete and keep-only write a new snapshot table past the end of the file (every kept entry
// byte-exact, extra data and padding included), switch nb_snapshots and snapshots_offset
// (header bytes 60..71) in one write, and lower the refcounts of what only the removed
// snapshots referenced (their L1 tables, L2 tables and data; the old table): the clusters
// whose references the new table removes (RefcountPolicy::released_from), freeing nothing
// another snapshot or the active image still uses. Every other refcount as -R all leaves it,
// then the COPIED flags. Entries the table cannot decode (past a damaged one) are dropped
// too: keep-only of a good entry is the cure for a table with garbage after it. Removing every
// snapshot writes nb_snapshots = 0 and snapshots_offset = 0 and no table. Destructive: the
// removed snapshots' data is gone. Nothing to remove (keep-only of the only entry) is an
// empty plan.
//
// SNAP matches a snapshot exactly by id, then exactly by name, then "snapshot[N]" (entry N,
// decimal); never by prefix. Unknown is kNotFound, naming the entries there are; an id or
// name two entries share is kInvalidArgument, saying what to use instead. "all" (-D) and "0"
// (-E) mean every snapshot: a snapshot with such an id is named by snapshot[N].
#pragma once

#include "engine/repair/command.h"
#include "engine/repair/plan_builder.h"

namespace qcow2 {

Status plan_snapshot_revert(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);
Status plan_snapshot_delete(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);  // kDelete, kKeepOnly

}  // namespace qcow2
