// Which structure owns which clusters: one role per cluster. Structures are claimed in a
// fixed order (the header cluster, the active L1 table, the refcount table, the snapshot
// table, the bitmap directory, then the tables they point at), and a pointer is checked
// against what is already claimed BEFORE what it names is decoded: a table that would lie in
// another structure is a cross-link, never read as the type it claims to be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/format/role.h"

namespace qcow2 {

// One structure and the clusters it covers.
struct Claim {
  uint64_t offset = 0;  // file offset where the structure starts
  uint64_t bytes = 0;
  Role role = Role::kHeader;
  // Which one: the snapshot index (snapshot L1 tables), the refcount table index (blocks),
  // the bitmap index (bitmap tables), the L1 index (L2 tables).
  uint64_t index = 0;
};

// "the refcount table at 0x30000", "refcount block 3 at 0x50000", "snapshot 1's L1 table at …".
std::string describe_claim(const Claim& c);

class ClaimMap {
 public:
  explicit ClaimMap(uint32_t cluster_bits) : cluster_bits_(cluster_bits) {}

  // The structure owning some cluster of [offset, offset + bytes), or null when none does.
  const Claim* overlapping(uint64_t offset, uint64_t bytes) const;
  // The structure owning cluster `c`, or null.
  const Claim* owner_of_cluster(uint64_t c) const { return find(c, 1); }

  // Claims c's clusters, or returns the structure that owns one of them already (and claims
  // nothing). An empty structure claims nothing and never conflicts.
  const Claim* claim(const Claim& c);

  struct Refused {
    size_t position;  // in the batch given to claim_all
    Claim owner;      // the structure that has the clusters
  };
  // Claims a batch of structures of one kind at once (thousands of refcount blocks): each is
  // refused when an earlier claim, or an earlier member of the batch (in file order), owns
  // one of its clusters. O(n log n) for the batch, where one claim() each would be O(n^2).
  std::vector<Refused> claim_all(const std::vector<Claim>& batch);

  size_t size() const { return claims_.size(); }
  uint32_t cluster_bits() const { return cluster_bits_; }

 private:
  struct Entry {
    uint64_t first;   // first cluster
    uint64_t count;   // clusters
    Claim claim;
  };
  const Claim* find(uint64_t first, uint64_t count) const;
  uint64_t count_of(const Claim& c) const;

  uint32_t cluster_bits_;
  std::vector<Entry> claims_;  // sorted by first cluster; never overlapping
};

}  // namespace qcow2
