// The guest→host mapping of one L1 table, as qemu-img map shows it for the top layer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/format/claims.h"
#include "engine/io/image.h"

namespace qcow2 {

enum class ExtentKind : uint8_t {
  kUnallocated,  // not in this image: the backing file (or zeros) shows through
  kData,         // host data at host_offset (in the data file when the image has one)
  kZero,         // reads as zeros; host_offset set when a cluster is preallocated
  kCompressed,   // compressed data; host_offset is the stream's byte offset
  // Maps through the same L2 table as an earlier range (a damaged L1 naming one table many
  // times): host_offset is that range's guest offset, where its extents are listed.
  kSameL2,
};

const char* extent_kind_name(ExtentKind k);

struct GuestExtent {
  uint64_t guest_offset = 0;
  uint64_t length = 0;
  ExtentKind kind = ExtentKind::kUnallocated;
  uint64_t host_offset = 0;  // 0 when none
  bool has_host = false;
};

// Maps the whole virtual disk through `l1`. Extents are merged when kind matches and host
// offsets are contiguous (compressed ones never merge). Entries behind unreadable or bad L2
// pointers map as unallocated, as they cannot be trusted; an L2 table shared by several L1
// entries is listed once (kSameL2 for the others), so the map is bounded by the file.
// `claims` as for walk_tables.
Result<std::vector<GuestExtent>> guest_map(const Image& img, uint64_t l1_offset, std::span<const uint64_t> l1,
                                           const ClaimMap* claims = nullptr);

}  // namespace qcow2
