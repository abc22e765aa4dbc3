// The plans that write what the user names: feature bits (-M, -C), a patch of 1, 2, 4 or 8
// bytes at an offset or of a field by name (-m edit), a copy of a range (-m copy).
#pragma once

#include "engine/repair/command.h"
#include "engine/repair/plan_builder.h"

namespace qcow2 {

// -M / -C: bit 0 (dirty) or 1 (corrupt) of incompatible_features, the one 8-byte field at 72.
// A version 2 header has no such field (byte 72 begins its header extensions): setting is
// refused, clearing has nothing to do.
Status plan_feature_bit(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);

// -m edit: `cmd.width` bytes at `cmd.offset`, or the field `cmd.field` names:
//   header.NAME (a header field), l1 I, l2 I J (entry J of the L2 table active L1 entry I
//   names), reftable I, refcount CLUSTER. Unknown tables and entries are kNotFound.
Status plan_patch(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);

// -m copy: `cmd.length` bytes (at most one cluster) from `cmd.source` of `cmd.source_file`
// (or of the image) to `cmd.offset` of the image, inside the file.
Status plan_copy(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd);

}  // namespace qcow2
