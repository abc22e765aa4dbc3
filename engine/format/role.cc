#include "engine/format/role.h"

namespace qcow2 {

const char* role_name(Role r) {
  switch (r) {
    case Role::kFree: return "free";
    case Role::kHeader: return "header";
    case Role::kL1: return "active L1 table";
    case Role::kL2: return "L2 table";
    case Role::kRefTable: return "refcount table";
    case Role::kRefBlock: return "refcount block";
    case Role::kSnapshotTable: return "snapshot table";
    case Role::kSnapshotL1: return "snapshot L1 table";
    case Role::kBitmapDirectory: return "bitmap directory";
    case Role::kBitmapTable: return "bitmap table";
    case Role::kBitmapData: return "bitmap data";
    case Role::kCryptoHeader: return "encryption header";
    case Role::kData: return "data";
    case Role::kCompressed: return "compressed data";
    case Role::kVmState: return "VM state";
  }
  return "?";
}

}  // namespace qcow2
