// Directory names for snapshots: the snapshot's id when that is a usable, unique file name;
// otherwise `index-N` (its position in the table) with a note saying why.
#pragma once

#include <string>
#include <vector>

#include "engine/format/snapshot.h"

namespace qcow2fs {

struct SnapshotName {
  std::string name;
  std::string note;  // empty when the name is the id
};

std::vector<SnapshotName> snapshot_names(const std::vector<qcow2::Snapshot>& snapshots);

}  // namespace qcow2fs
