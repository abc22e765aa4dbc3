// References rooted in the header: the header cluster, the encryption header, snapshot table
// and snapshot L1 tables, refcount table and blocks, bitmap directory, tables and data.
#pragma once

#include <string>
#include <vector>

#include "engine/check/reference.h"
#include "engine/check/stats.h"
#include "engine/io/image.h"

namespace qcow2 {

void reference_header_metadata(const Image& img, ReferenceSink& sink);

struct SnapshotL1 {
  int32_t index;
  uint64_t l1_offset;
  std::vector<uint64_t> l1;
  uint64_t disk_size;
  std::string name;  // "snapshot ID L1"
};

// References the snapshot table and each readable snapshot L1; returns those L1s.
std::vector<SnapshotL1> reference_snapshots(const Image& img, ReferenceSink& sink, CheckStats* stats);

// References the refcount table and every refcount block it validly points at.
Status reference_refcount_structures(const Image& img, ReferenceSink& sink, CheckStats* stats);

void reference_bitmaps(const Image& img, ReferenceSink& sink);

}  // namespace qcow2
