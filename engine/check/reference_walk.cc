#include "engine/check/reference_walk.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/check/l2_scan.h"
#include "engine/check/metadata_refs.h"
#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/io/prefetch_reader.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

// Collects the L2 pointers of every L1 table so each L2 table is read once.
class L1Collector {
 public:
  L1Collector(const Image& img, const Layout& layout, ReferenceSink& sink, CheckStats* stats)
      : img_(img), layout_(layout), g_(img.geometry()), sink_(sink), stats_(stats) {}

  void add_table(const L1Table& t) {
    const int32_t snapshot = t.snapshot;
    const std::vector<uint64_t>& l1 = t.entries;
    EntryStats* st = stats_ ? (snapshot == kActive ? &stats_->l1 : &stats_->snapshot_l1) : nullptr;
    // Reserve exactly: doubling growth would leave up to half the vector unused at the peak.
    tables_.reserve(tables_.size() + std::count_if(l1.begin(), l1.end(), [](uint64_t e) { return (e & kOffsetMask) != 0; }));
    for (uint64_t i = 0; i < l1.size(); ++i) {
      const L1Entry e = decode_l1_entry(l1[i], g_);
      const uint64_t at = t.offset + i * 8;
      if (e.reserved) {
        if (st) ++st->reserved;
        Finding f = finding("l1-reserved-bits", t, i, e.raw,
                            fmt::format("L1 entry 0x{:016x} has reserved bits 0x{:x} set", e.raw, e.reserved),
                            "clear the reserved bits of the entry (the L2 offset is kept)");
        f.mask = e.reserved;
        report(std::move(f));
      }
      if (!e.used()) {
        if (st) ++st->unused;
        // Flags with no offset: a pointer whose offset was lost (QEMU's check even reads the
        // header as the table).
        if (e.copied)
          report(finding("l1-flags-without-table", t, i, e.raw,
                         fmt::format("L1 entry 0x{:016x} has COPIED set but no L2 offset: the pointer to its L2 "
                                     "table was lost",
                                     e.raw),
                         "restore the entry from a backup or a snapshot's L1 (see the proposed value, if any)"));
        continue;
      }
      if (e.unaligned || !inside_file(e.l2_offset, g_.cluster_size, img_.file_size())) {
        if (st) ++(e.unaligned ? st->unaligned : st->invalid);
        report(finding(e.unaligned ? "l1-unaligned" : "l1-past-eof", t, i, e.raw,
                       e.unaligned ? fmt::format("L2 offset 0x{:x} is not cluster aligned", e.l2_offset)
                                   : fmt::format("L2 offset 0x{:x} lies past the end of the file", e.l2_offset),
                       "the L2 table is lost; restore the entry from a backup or a snapshot's L1"));
        continue;
      }
      if (const Claim* owner = layout_.l2_conflict(e.l2_offset)) {
        if (st) ++st->invalid;
        report(finding("l1-cross-link", t, i, e.raw,
                       fmt::format("L2 offset 0x{:x} lies in {}: it is not read as an L2 table", e.l2_offset,
                                   describe_claim(*owner)),
                       "the L2 table is lost; restore the entry from a backup or a snapshot's L1"));
        continue;
      }
      if (st) ++st->used;
      Referrer r{Role::kL2, snapshot, at, t.offset, i, i, g_.guest_offset(i, 0)};
      sink_.reference(g_.cluster_index(e.l2_offset), 1, t.times, r);
      if (snapshot == kActive) sink_.active(g_.cluster_index(e.l2_offset), e.copied);
      tables_.push_back({e.l2_offset, t.disk_size, t.times, snapshot == kActive ? 1U : 0U, snapshot,
                         static_cast<uint32_t>(i)});
    }
  }

  // Distinct L2 tables in file order, with how many L1 entries point at each. The first
  // pointer (the active L1's when it has one: it is added first) gives the guest offsets.
  std::vector<L2Table> distinct() {
    // std::sort, not stable_sort: no temporary copy of a vector that can hold millions.
    // Snapshot indexes order the ties, and the active L1 (kActive, -1) sorts first.
    std::sort(tables_.begin(), tables_.end(), [](const L2Table& a, const L2Table& b) {
      if (a.offset != b.offset) return a.offset < b.offset;
      if (a.first_snapshot != b.first_snapshot) return a.first_snapshot < b.first_snapshot;
      return a.l1_index < b.l1_index;
    });
    size_t out = 0;
    for (size_t i = 0; i < tables_.size(); ++i) {
      if (out > 0 && tables_[out - 1].offset == tables_[i].offset) {
        L2Table& d = tables_[out - 1];
        // Saturating: a count past 2^32 says as much as the exact one would.
        d.times = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{d.times} + tables_[i].times, UINT32_MAX));
        d.active_times += tables_[i].active_times;
      } else {
        tables_[out++] = tables_[i];
      }
    }
    tables_.resize(out);
    tables_.shrink_to_fit();
    return std::move(tables_);
  }

 private:
  Finding finding(const char* code, const L1Table& t, uint64_t index, uint64_t raw, std::string msg,
                  std::string fix) const {
    Finding f = make_finding(code, Category::kCorrupt, t.name, std::move(msg), std::move(fix));
    f.table_offset = t.offset;
    f.at_field(t.offset + index * 8, 8, raw);
    f.index = index;
    f.guest_offset = g_.guest_offset(index, 0);
    return f;
  }
  void report(Finding f) {
    if (sink_.wants_findings()) sink_.finding(std::move(f));
  }

  const Image& img_;
  const Layout& layout_;
  const Geometry& g_;
  ReferenceSink& sink_;
  CheckStats* stats_;
  std::vector<L2Table> tables_;
};

}  // namespace

Status walk_references(const Image& img, const Layout& layout, ReferenceSink& sink, CheckStats* stats,
                       const WalkOptions& opts) {
  L1Collector l1s(img, layout, sink, stats);
  reference_header_metadata(img, layout, sink, stats);
  for (const L1Table& t : layout.l1_tables()) l1s.add_table(t);
  reference_bitmaps(img, layout, sink);

  L2Scanner scanner(img, sink, stats, opts.verify_compressed, opts.bulk, opts.cancel);
  const std::vector<L2Table> tables = l1s.distinct();
  PrefetchReader reader(img.file(), [&](size_t i) { return tables[i].offset; }, tables.size(),
                        img.geometry().cluster_size);
  for (size_t i = 0; i < tables.size(); ++i) {
    QCOW2_RETURN_IF_ERROR(cancelled_check(opts.cancel));
    QCOW2_ASSIGN_OR_RETURN(std::span<const uint8_t> table, reader.next());
    scanner.scan(tables[i], table);
    if (opts.on_table) opts.on_table(i + 1, tables.size());
  }
  return Status::Ok();
}

}  // namespace qcow2
