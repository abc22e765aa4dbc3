// Every reference the image makes to a host cluster, enumerated by one walk that both the
// counting pass and the referrer pass (which names who points at a suspect cluster) share.
#pragma once

#include <cstdint>
#include <string>

#include "engine/check/finding.h"
#include "engine/format/role.h"

namespace qcow2 {

class RefCounter;

// Who points at a cluster. Plain data (no strings): millions are made per check.
struct Referrer {
  Role role = Role::kData;
  int32_t snapshot = kActive;  // snapshot index, or kActive (also for header-rooted metadata)
  uint64_t entry_offset = 0;   // file offset of the pointer (0: the header)
  uint64_t table_offset = 0;   // file offset of the table holding the pointer
  uint64_t index = 0;          // entry index in that table
  uint64_t l1_index = 0;       // for L2 and data references
  uint64_t guest_offset = 0;   // for data references
};

class ReferenceSink {
 public:
  virtual ~ReferenceSink() = default;
  // `count` clusters from `first`, each referenced `times` times (an L2 table shared by several
  // L1 tables passes its data references once, with times = the number of L1 entries).
  virtual void reference(uint64_t first, uint64_t count, uint64_t times, const Referrer& r) = 0;
  // A cluster referenced from the active tables, with that entry's COPIED flag.
  virtual void active(uint64_t cluster, bool copied) {}
  // Structural problems found on the way; only the first pass wants them.
  virtual bool wants_findings() const { return false; }
  virtual void finding(Finding f) {}
  // `n` more findings of `code` that were made but not kept (see kMaxFindingsPerCode).
  virtual void findings_not_listed(const std::string& code, Category category, uint64_t n) {}
  // A sink that only counts may expose its counter: the L2 scan then updates it directly for
  // plain data entries, the hot path of a multi-terabyte check (millions of entries).
  virtual RefCounter* plain_counter() { return nullptr; }
};

}  // namespace qcow2
