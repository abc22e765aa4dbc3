// What a host cluster is for: the kinds of structure the format places in the file.
#pragma once

#include <cstdint>

namespace qcow2 {

enum class Role : uint8_t {
  kFree = 0,  // no reference (used by the cluster map)
  kHeader,
  kL1,
  kL2,
  kRefTable,
  kRefBlock,
  kSnapshotTable,
  kSnapshotL1,
  kBitmapDirectory,
  kBitmapTable,
  kBitmapData,
  kCryptoHeader,
  kData,
  kCompressed,
  kVmState,
};

const char* role_name(Role r);
inline bool is_metadata(Role r) {
  return r != Role::kData && r != Role::kCompressed && r != Role::kVmState && r != Role::kFree;
}

inline constexpr int32_t kActive = -1;  // "the active image" where a snapshot index could stand

}  // namespace qcow2
