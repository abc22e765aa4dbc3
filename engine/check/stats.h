// Statistics of a check, per table kind and per cluster class.
#pragma once

#include <cstdint>
#include <string>

namespace qcow2 {

struct EntryStats {
  uint64_t used = 0;
  uint64_t unused = 0;
  uint64_t unaligned = 0;
  uint64_t invalid = 0;    // past the end of the file
  uint64_t reserved = 0;   // reserved bits set
  uint64_t zero_plain = 0;
  uint64_t zero_alloc = 0;
  uint64_t compressed = 0;
};

struct CheckStats {
  EntryStats l1;        // active L1
  EntryStats l2;        // L2 tables reachable from the active L1
  EntryStats snapshot_l1;
  EntryStats snapshot_l2;  // L2 tables reachable only from snapshots
  EntryStats refcount_table;
  uint64_t refcount_used = 0;    // non-zero on-disk refcounts
  uint64_t refcount_unused = 0;
  uint64_t leaks = 0;            // clusters whose refcount is above the references
  uint64_t errors = 0;           // clusters whose refcount is below the references
  uint64_t rebuild = 0;          // errors whose on-disk refcount is 0
  uint64_t copied_mismatches = 0;

  uint64_t file_clusters = 0;        // clusters in the file
  uint64_t used_clusters = 0;        // referenced at all
  uint64_t active_clusters = 0;      // referenced by the active tables
  uint64_t inactive_only_clusters = 0;
  uint64_t free_clusters = 0;        // inside the file, refcount 0 and unreferenced
  uint64_t cow_growth_clusters = 0;  // active data clusters with COPIED (written since the last snapshot)
  uint64_t defrag_release_clusters = 0;  // file clusters a compaction would give back
  std::string preallocation = "off";     // off, metadata, full

  // qemu-img check's counters (same meaning as its JSON).
  uint64_t total_clusters = 0;       // virtual size in clusters
  uint64_t allocated_clusters = 0;   // active normal, zero-allocated and compressed entries
  uint64_t fragmented_clusters = 0;
  uint64_t compressed_clusters = 0;
  uint64_t image_end_offset = 0;
  uint64_t counter_bytes = 0;        // memory the per-cluster state took
};

}  // namespace qcow2
