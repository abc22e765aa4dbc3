// Scans one distinct L2 table: checks every entry and references its data clusters.
#pragma once

#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <span>
#include <vector>

#include "engine/check/finding.h"
#include "engine/check/reference.h"
#include "engine/check/stats.h"
#include "engine/format/l2_entry.h"
#include "engine/io/image.h"

namespace qcow2 {

// An L2 table and the L1 entries that point at it.
// One is kept per L2 table of the image (131072 for 256 GiB of 4 KiB clusters): keep it small.
struct L2Table {
  uint64_t offset = 0;
  uint64_t disk_size = 0;     // of the first pointer's L1: entries beyond map VM state
  uint32_t times = 0;         // L1 entries pointing here, over all L1 tables
  uint32_t active_times = 0;  // of which in the active L1
  int32_t first_snapshot = kActive;
  uint32_t l1_index = 0;      // of the first pointer (the guest offsets follow it); L1 < 2^22 entries
};

class L2Scanner {
 public:
  L2Scanner(const Image& img, ReferenceSink& sink, CheckStats* stats, bool verify_compressed, bool bulk = true,
            const std::atomic<bool>* cancel = nullptr);
  // `table` holds the cluster at t.offset.
  void scan(const L2Table& t, std::span<const uint8_t> table);

 private:
  // The hot path: a plain data entry (aligned, in the file, no flags but COPIED) updates the
  // counter directly. False when the entry needs the general path.
  bool plain_entry(const L2Table& t, uint64_t index, uint64_t raw, RefCounter& counter, EntryStats* st);
  // The hotter path: a run of plain entries at consecutive clusters nothing else has
  // referenced, counted in bulk. Returns its length, or 0 when the entries at `index` are not
  // such a run (run_length_seen_ then says how many entries from `index` cannot start one).
  uint64_t run(const L2Table& t, std::span<const uint8_t> table, uint64_t index, uint64_t end,
               RefCounter& counter, EntryStats* st);
  void entry(const L2Table& t, uint64_t index, const L2Entry& e, EntryStats* st);
  void compressed(const L2Table& t, uint64_t index, const L2Entry& e, const Referrer& r, EntryStats* st);
  // Whether the stream an entry names decompresses to one cluster; each stream (by its offset)
  // is decompressed once per table however many entries name it.
  Status verify_stream(const L2Entry& e);
  // Queues a finding about entry `index` (null when the sink takes none).
  Finding* report(const char* code, const L2Table& t, uint64_t index, const L2Entry& e, std::string msg,
                  std::string fix);
  void finish_table(const L2Table& t);

  // A table needs this many used entries before it can be judged "mostly not L2 entries".
  static constexpr uint64_t kMinEntriesForVerdict = 8;

  const Image& img_;
  const Geometry& g_;
  ReferenceSink& sink_;
  CheckStats* stats_;
  bool verify_compressed_;
  bool findings_;
  bool bulk_;
  std::vector<uint8_t> packed_;
  std::vector<uint8_t> plain_;
  std::vector<Finding> pending_;   // this table's findings, sent when it is done
  // Per stream offset in this table: the shortest length known to decompress, the longest known
  // not to (a longer read of a good stream only adds bytes past its end).
  struct StreamVerdict {
    uint64_t ok_from = ~0ULL;
    uint64_t bad_upto = 0;
    std::string why;
  };
  std::unordered_map<uint64_t, StreamVerdict> streams_;
  const std::atomic<bool>* cancel_;
  uint64_t since_cancel_check_ = 0;
  bool cancelled_ = false;
  uint64_t used_in_table_ = 0;     // entries that are not all zero
  uint64_t invalid_in_table_ = 0;  // of which findings
  uint64_t run_length_seen_ = 0;   // entries the last run() looked at
  uint64_t next_contiguous_ = 0;  // for qemu-img's fragmentation count: the previous normal cluster's end
};

}  // namespace qcow2
