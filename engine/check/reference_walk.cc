#include "engine/check/reference_walk.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/check/l2_scan.h"
#include "engine/check/metadata_refs.h"
#include "engine/format/l1_entry.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

// Collects the L2 pointers of every L1 table so each L2 table is read once.
class L1Collector {
 public:
  L1Collector(const Image& img, ReferenceSink& sink, CheckStats* stats)
      : img_(img), g_(img.geometry()), sink_(sink), stats_(stats) {}

  void add_table(int32_t snapshot, uint64_t l1_offset, const std::vector<uint64_t>& l1,
                 uint64_t disk_size, const std::string& name) {
    EntryStats* st = stats_ ? (snapshot == kActive ? &stats_->l1 : &stats_->snapshot_l1) : nullptr;
    for (uint64_t i = 0; i < l1.size(); ++i) {
      const L1Entry e = decode_l1_entry(l1[i], g_);
      const uint64_t at = l1_offset + i * 8;
      if (e.reserved) {
        if (st) ++st->reserved;
        report("l1-reserved-bits", at, name, i,
               fmt::format("L1 entry 0x{:016x} has reserved bits 0x{:x} set", e.raw, e.reserved),
               "clear the reserved bits of the entry (the L2 offset is kept)");
      }
      if (!e.used()) {
        if (st) ++st->unused;
        continue;
      }
      if (e.unaligned || !fits(e.l2_offset)) {
        if (st) ++(e.unaligned ? st->unaligned : st->invalid);
        report(e.unaligned ? "l1-unaligned" : "l1-past-eof", at, name, i,
               e.unaligned ? fmt::format("L2 offset 0x{:x} is not cluster aligned", e.l2_offset)
                           : fmt::format("L2 offset 0x{:x} lies past the end of the file", e.l2_offset),
               "the L2 table is lost; restore the entry from a backup or a snapshot's L1");
        continue;
      }
      if (st) ++st->used;
      Referrer r{Role::kL2, snapshot, at, l1_offset, i, i, g_.guest_offset(i, 0)};
      sink_.reference(g_.cluster_index(e.l2_offset), 1, 1, r);
      if (snapshot == kActive) sink_.active(g_.cluster_index(e.l2_offset), e.copied);
      uses_.push_back({e.l2_offset, snapshot, i, at, disk_size});
    }
  }

  // Distinct L2 tables in file order, with how many L1 entries point at each.
  std::vector<L2Table> distinct() {
    std::stable_sort(uses_.begin(), uses_.end(),
                     [](const Use& a, const Use& b) { return a.offset < b.offset; });
    std::vector<L2Table> out;
    for (const Use& u : uses_) {
      if (out.empty() || out.back().offset != u.offset)
        out.push_back({u.offset, 0, 0, u.snapshot, u.l1_index, u.entry_offset, u.disk_size});
      ++out.back().times;
      if (u.snapshot == kActive) ++out.back().active_times;
    }
    return out;
  }

 private:
  struct Use {
    uint64_t offset;
    int32_t snapshot;
    uint64_t l1_index;
    uint64_t entry_offset;
    uint64_t disk_size;
  };

  bool fits(uint64_t off) const {
    return off < img_.file_size() && g_.cluster_size <= img_.file_size() - off;
  }

  void report(const char* code, uint64_t at, const std::string& table, uint64_t index,
              std::string msg, std::string fix) {
    if (!sink_.wants_findings()) return;
    Finding f;
    f.code = code;
    f.category = Category::kCorrupt;
    f.file_offset = at;
    f.table = table;
    f.index = index;
    f.guest_offset = g_.guest_offset(index, 0);
    f.message = std::move(msg);
    f.fix = std::move(fix);
    sink_.finding(std::move(f));
  }

  const Image& img_;
  const Geometry& g_;
  ReferenceSink& sink_;
  CheckStats* stats_;
  std::vector<Use> uses_;
};

}  // namespace

Status walk_references(const Image& img, ReferenceSink& sink, CheckStats* stats,
                       const WalkOptions& opts) {
  const Header& h = img.header();
  L1Collector l1s(img, sink, stats);

  reference_header_metadata(img, sink);

  auto active = img.read_active_l1();
  if (!active.ok()) return active.status();  // validate_header made this impossible
  l1s.add_table(kActive, h.l1_table_offset, *active, h.size, "active L1");

  for (const SnapshotL1& s : reference_snapshots(img, sink, stats))
    l1s.add_table(s.index, s.l1_offset, s.l1, s.disk_size, s.name);

  QCOW2_RETURN_IF_ERROR(reference_refcount_structures(img, sink, stats));
  reference_bitmaps(img, sink);

  L2Scanner scanner(img, sink, stats, opts.verify_compressed);
  for (const L2Table& t : l1s.distinct()) QCOW2_RETURN_IF_ERROR(scanner.scan(t));
  return Status::Ok();
}

}  // namespace qcow2
