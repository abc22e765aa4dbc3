// QEMU's implementation limits (block/qcow2.h), each defined once: an image beyond them cannot
// have been written by QEMU, and no table is read or allocated beyond them.
#pragma once

#include <cstdint>

namespace qcow2 {

inline constexpr uint32_t kMinClusterBits = 9;   // 512 B
inline constexpr uint32_t kMaxClusterBits = 21;  // 2 MiB
inline constexpr uint64_t kMaxL1Bytes = 32ULL << 20;  // QCOW_MAX_L1_SIZE, any L1 table
inline constexpr uint64_t kMaxL1Entries = kMaxL1Bytes / 8;
inline constexpr uint64_t kMaxRefTableBytes = 8ULL << 20;  // QCOW_MAX_REFTABLE_SIZE
inline constexpr uint32_t kMaxSnapshots = 65536;              // QCOW_MAX_SNAPSHOTS
inline constexpr uint64_t kSnapshotTableMaxBytes = 64ULL << 20;  // QCOW_MAX_SNAPSHOTS_SIZE
inline constexpr uint32_t kSnapshotMaxExtraData = 1024;         // per entry
inline constexpr uint32_t kMaxBackingNameBytes = 1023;
inline constexpr uint32_t kMaxBitmaps = 65535;                  // QCOW2_MAX_BITMAPS
inline constexpr uint64_t kMaxBitmapDirectoryBytes = 1024ULL * kMaxBitmaps;
inline constexpr uint32_t kMaxBitmapTableEntries = 0x8000000;  // BME_MAX_TABLE_SIZE
inline constexpr uint32_t kMaxBitmapNameBytes = 1023;

}  // namespace qcow2
