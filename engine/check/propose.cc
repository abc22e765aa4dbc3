#include "engine/check/propose.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/check/lost_data.h"
#include "engine/check/lowering.h"
#include "engine/format/extent.h"
#include "engine/format/header.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/format/refcount.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

bool is_refcount_code(const std::string& c) {
  return c == "refcount-leak" || c == "refcount-error" || c == "refcount-zero";
}

class Proposer {
 public:
  Proposer(const Image& img, const Layout& layout, const std::vector<MetaRange>& metadata, const RefCounter& counts,
           const ReferrerMap& referrers, std::vector<Finding>& findings)
      : img_(img), g_(img.geometry()), layout_(layout), metadata_(metadata), counts_(counts), referrers_(referrers),
        findings_(findings) {}

  void run() {
    // Metadata as disjoint spans, whatever roles overlap: where a proposal may write.
    for (const MetaRange& m : metadata_) {
      if (!meta_.empty() && m.first <= meta_.back().first + meta_.back().count)
        meta_.back().count = std::max(meta_.back().count, m.first + m.count - meta_.back().first);
      else
        meta_.push_back({m.first, m.count});
    }
    find_contested();
    mark_suspects();
    simple_proposals();
    index_leaks();
    LostData lost = infer_lost_data(img_, counts_, referrers_, suspect_tables_, leaked_,
                                    [this](uint64_t off) { return may_write(off); }, findings_);
    homes_ = std::move(lost.homes);
    added_ = std::move(lost.entries);
    refcounts();
    copied_flags();
    header_bits();
  }

 private:
  uint64_t refs(uint64_t c) const { return c < counts_.clusters() ? counts_.get(c) : 0; }

  // Clusters where two structures of equal standing meet: the layout's contested spans, the L2
  // tables an L1 entry names inside a deeper structure, the clusters of overlap findings.
  void find_contested() {
    contested_ = layout_.contested();
    for (const Finding& f : findings_) {
      if (f.code == "l1-cross-link" && f.current) {
        const uint64_t off = *f.current & kOffsetMask;
        if (const Claim* owner = layout_.l2_conflict(off); owner && !Layout::header_rooted(owner->role))
          contested_.push_back({off >> g_.cluster_bits, 1});
      }
      if (f.code == "overlap" && f.cluster) contested_.push_back({*f.cluster, 1});
    }
    // Sorted and merged, so that one binary search answers.
    std::sort(contested_.begin(), contested_.end(),
              [](const ClusterSpan& a, const ClusterSpan& b) { return a.first < b.first; });
    std::vector<ClusterSpan> merged;
    for (const ClusterSpan& s : contested_) {
      if (!merged.empty() && s.first <= merged.back().first + merged.back().count)
        merged.back().count = std::max(merged.back().count, s.first + s.count - merged.back().first);
      else
        merged.push_back(s);
    }
    contested_ = std::move(merged);
  }

  bool contested(uint64_t c) const {
    auto it = std::upper_bound(contested_.begin(), contested_.end(), c,
                               [](uint64_t v, const ClusterSpan& s) { return v < s.first; });
    return it != contested_.begin() && c < std::prev(it)->first + std::prev(it)->count;
  }

  bool in_metadata(uint64_t c) const {
    auto it = std::upper_bound(meta_.begin(), meta_.end(), c,
                               [](uint64_t v, const ClusterSpan& m) { return v < m.first; });
    return it != meta_.begin() && c < std::prev(it)->first + std::prev(it)->count;
  }

  // The one rule for where a proposal may write: inside metadata (or the header), never where
  // two structures meet, never into guest data.
  bool may_write(uint64_t offset) const {
    const uint64_t c = offset >> g_.cluster_bits;
    return !contested(c) && (c == 0 || in_metadata(c));
  }

  // The largest virtual disk size of the image and its snapshots.
  uint64_t largest_disk() const {
    uint64_t end = img_.header().size;
    for (const Snapshot& s : img_.snapshots().snapshots) end = std::max(end, s.disk_size.value_or(0));
    return end;
  }

  // The first guest byte the entry a finding is about maps (COPIED findings of L1 entries
  // carry only the entry's index).
  std::optional<uint64_t> guest_of(const Finding& f) const {
    if (f.guest_offset) return f.guest_offset;
    if (f.code == "copied-l1" && f.index && *f.index < (~0ULL / g_.guest_bytes_per_l1_entry))
      return *f.index * g_.guest_bytes_per_l1_entry;
    return std::nullopt;
  }

  // Tables that are themselves in doubt, and the clusters several structures claim.
  void mark_suspects() {
    for (const Finding& f : findings_) {
      if (f.code == "l2-suspect-table" && f.table_offset) suspect_tables_.insert(*f.table_offset);
      if ((f.code == "overlap" || f.code == "cluster-shared") && f.cluster) {
        cross_linked_.insert(*f.cluster);
        // A table that shares its cluster with something else cannot be trusted as a table.
        if (auto it = referrers_.find(*f.cluster); it != referrers_.end())
          for (const Referrer& r : it->second.referrers)
            if (r.role == Role::kL2 || r.role == Role::kRefBlock) suspect_tables_.insert(*f.cluster << g_.cluster_bits);
      }
    }
    for (Finding& f : findings_) {
      if (f.table_offset && contested(*f.table_offset >> g_.cluster_bits)) suspect_tables_.insert(*f.table_offset);
      if (f.proposed && !may_write(*f.file_offset)) {
        f.withdraw_proposal();
        f.message += contested(*f.file_offset >> g_.cluster_bits)
                         ? "; it lies where two structures meet, so nothing is proposed"
                         : "; it would write outside the metadata, so nothing is proposed";
      }
    }
    // No guest reads an entry past the end of every disk the image has had: a table read
    // there is what a too-large l1_size (or a stray pointer) makes of other bytes, and
    // "fixing" it writes into whatever those bytes really are.
    const uint64_t disk_end = largest_disk();
    for (Finding& f : findings_) {
      const std::optional<uint64_t> guest = guest_of(f);
      if (!f.suspect && guest && *guest >= disk_end && f.file_offset) {
        f.suspect = true;
        f.message += fmt::format("; it maps guest offset 0x{:x}, past the end of the disk ({} bytes), so nothing is "
                                 "proposed",
                                 *guest, disk_end);
      }
    }
    for (Finding& f : findings_) {
      bool suspect = f.suspect || (f.table_offset && suspect_tables_.count(*f.table_offset));
      if (is_refcount_code(f.code) && f.cluster)
        if (auto it = referrers_.find(*f.cluster); it != referrers_.end())
          for (const Referrer& r : it->second.referrers) suspect |= suspect_tables_.count(r.table_offset) > 0;
      if (suspect && !f.suspect) {
        f.suspect = true;
        f.message += "; derived from a suspect table, so nothing is proposed";
      }
      if (f.suspect) f.withdraw_proposal();
    }
  }

  // Fixes that follow from the finding alone: a flag or reserved bits that cannot be right.
  // The field's mask (set where the finding was made) says which bits go to 0.
  void simple_proposals() {
    static const std::map<std::string, Risk> kClearBits = {
        {"l1-reserved-bits", Risk::kRisky},         {"l2-reserved-bits", Risk::kRisky},
        {"reftable-reserved-bits", Risk::kRisky},   {"l2-copied-unallocated", Risk::kSafe},
        {"l2-compressed-copied", Risk::kSafe},      {"l2-subcluster-alloc-and-zero", Risk::kRisky},
        {"l2-unallocated-with-alloc-bits", Risk::kRisky}, {"l2-zero-flag-v2", Risk::kRisky},
        {"l2-compressed-bitmap", Risk::kRisky},     {"refcount-past-eof", Risk::kSafe},
    };
    for (Finding& f : findings_) {
      if (f.suspect || !f.current || !may_write(*f.file_offset)) continue;
      if (f.code == "reftable-reserved-bits" && !block_behind_is_right(f)) continue;
      if (auto it = kClearBits.find(f.code); it != kClearBits.end()) f.propose(0, it->second);
    }
    // A refcount-table entry whose reserved bits hide a good block: its range's misses go
    // with the same entry's proposal.
    std::unordered_map<uint64_t, const Finding*> by_offset;
    for (const Finding& f : findings_)
      if (f.code == "reftable-reserved-bits" && f.proposed && (*f.current & ~kRefTableReservedMask) != 0)
        by_offset[*f.file_offset] = &f;  // it names a block, which the proposal brings back
    for (Finding& f : findings_)
      if (f.code == "refcount-table-miss" && f.file_offset && by_offset.count(*f.file_offset))
        f.resolved_by = *f.file_offset;
  }

  // A refcount-table entry with reserved bits: clearing them is proven only when the block it
  // then names is one nothing else owns and holds exactly the refcounts the references call
  // for in its range.
  bool block_behind_is_right(Finding& f) const {
    const uint64_t off = *f.current & ~kRefTableReservedMask;
    if (off == 0) return true;  // it names no block either way
    std::vector<uint8_t> block;
    const bool readable = off != 0 && is_aligned(off, g_.cluster_size) &&
                          inside_file(off, g_.cluster_size, img_.file_size()) &&
                          !layout_.claims().overlapping(off, g_.cluster_size) && img_.read_cluster(off, block).ok();
    bool agrees = readable;
    const uint64_t first = *f.index << g_.refblock_bits;
    for (uint64_t j = 0; agrees && j < g_.refblock_entries; ++j) {
      const uint64_t c = first + j;
      const uint64_t rc = refcount_at(block, j, g_.refcount_order);
      agrees = c < counts_.clusters() ? rc == counts_.get(c) : rc == 0;
    }
    if (!agrees)
      f.message += readable ? "; the block it names does not hold the refcounts the references call for"
                            : "; the block it names cannot be read as a refcount block";
    return agrees;
  }

  // Leaked clusters nothing references, and their refcounts: where lost data may be.
  void index_leaks() {
    for (const Finding& f : findings_)
      if (f.code == "refcount-leak" && f.cluster && !f.suspect && refs(*f.cluster) == 0)
        leaked_[*f.cluster] = field_value(f, f.current.value_or(0));
  }

  void refcounts() {
    std::vector<uint8_t> content;
    const bool missing = references_may_be_missing(findings_);
    for (Finding& f : findings_) {
      if (!is_refcount_code(f.code) || !f.cluster || f.suspect) continue;
      const uint64_t c = *f.cluster;
      if (cross_linked_.count(c)) {
        f.withdraw_proposal();
        f.message += "; the cluster is shared by several referrers (see the cross-link finding), so no "
                     "refcount is proposed";
        continue;
      }
      if (auto h = homes_.find(c); h != homes_.end()) {
        f.withdraw_proposal();
        f.message += fmt::format("; it is the inferred home of the lost entry at 0x{:x} (see its proposed value): "
                                 "do not free it",
                                 h->second);
        f.fix = "apply the proposed value of that entry; this refcount is then right";
        f.resolved_by = h->second;
        continue;
      }
      if (!f.proposed) continue;
      if (f.code != "refcount-leak") {
        f.risk = Risk::kSafe;  // raised to the references: nothing can be freed by it
      } else if (missing) {
        f.risk = Risk::kDestructive;
        f.fix = "lower the refcount only once the pointers that were not followed (see above) are repaired: "
                "they may still need this cluster";
      } else if (refs(c) > 0) {
        f.risk = Risk::kSafe;
      } else {
        f.risk = cluster_holds_nothing(img_, c, content) ? Risk::kSafe : Risk::kDestructive;
        if (f.risk == Risk::kDestructive)
          f.fix = "set the refcount to 0 only if the cluster's data is not wanted: it may hold what a damaged "
                  "entry lost";
      }
    }
  }

  // The refcount each cluster will have once the proposals are applied, where it differs from
  // the one on disk: the proposed one, or for a range without a refcount block the references
  // (what a rebuild of that block gives).
  // `by`: the proposal that sets it, when one does.
  std::optional<uint64_t> final_refcount(uint64_t c, std::optional<uint64_t>& by) const {
    if (auto it = final_rc_.find(c); it != final_rc_.end()) {
      by = refcount_offset_.at(c);
      return it->second;
    }
    for (const Missed& m : missed_ranges_)
      if (m.first <= c && c < m.first + m.count) {
        by = m.resolved_by;  // the block comes back by that proposal, or by a rebuild
        return refs(c);
      }
    return std::nullopt;
  }

  // COPIED must be set exactly when the refcount the proposals leave is 1.
  void copied_flags() {
    for (const Finding& f : findings_) {
      if (is_refcount_code(f.code) && f.cluster && f.suspect) suspect_refblocks_.insert(*f.cluster >> g_.refblock_bits);
      if (is_refcount_code(f.code) && f.cluster && f.proposed) {
        final_rc_[*f.cluster] = field_value(f, *f.proposed);
        refcount_offset_[*f.cluster] = *f.file_offset;
      }
      if (f.code == "refcount-table-miss" && f.index)
        missed_ranges_.push_back({*f.index << g_.refblock_bits, g_.refblock_entries, f.resolved_by});
    }
    std::unordered_set<uint64_t> judged;  // entry offsets with a COPIED finding already
    for (Finding& f : findings_) {
      if ((f.code != "copied-l1" && f.code != "copied-l2") || !f.cluster) continue;
      judged.insert(*f.file_offset);
      if (cross_linked_.count(*f.cluster) || f.suspect) {
        f.withdraw_proposal();
        continue;
      }
      // The refcount this flag would follow was read from a block in doubt: it says nothing.
      if (suspect_refblocks_.count(*f.cluster >> g_.refblock_bits)) {
        f.withdraw_proposal();
        f.message += "; its refcount comes from a suspect refcount block, so nothing is proposed";
        continue;
      }
      std::optional<uint64_t> by;
      const std::optional<uint64_t> rc = final_refcount(*f.cluster, by);
      if (!rc) continue;
      const bool want = *rc == 1;
      const bool has = (f.current.value_or(0) & kEntryCopied) != 0;
      if (want == has) {
        f.withdraw_proposal();
        f.message += fmt::format("; right once the refcount of cluster {} is {} (see the refcount findings)",
                                 *f.cluster, *rc);
        f.fix = by ? "nothing to change here: apply the refcount proposal"
                   : "nothing to change here once the refcount block of its range is rebuilt";
        f.resolved_by = by;
      } else {
        f.propose(want ? kEntryCopied : 0, Risk::kSafe);
      }
    }
    follow_refcount_changes(judged);
  }

  // A refcount proposal that moves a cluster to or from 1 changes what COPIED its active
  // referrers must carry: propose that too, or the proposals would disagree.
  void follow_refcount_changes(const std::unordered_set<uint64_t>& judged) {
    std::vector<uint8_t> raw(8);
    for (Finding& rf : findings_) {
      if (!is_refcount_code(rf.code) || !rf.cluster || !rf.proposed) continue;
      const uint64_t c = *rf.cluster;
      const bool want = field_value(rf, *rf.proposed) == 1;
      if (c >= counts_.clusters() || !(want ? counts_.active_not_copied(c) : counts_.active_copied(c))) continue;
      auto it = referrers_.find(c);
      if (it == referrers_.end() || it->second.left_out) {
        rf.withdraw_proposal();  // its referrers are not all known: their flags cannot be proposed
        rf.message += "; not proposed: the COPIED flags of its referrers would change too, and not all are named";
        continue;
      }
      for (const Referrer& r : it->second.referrers) {
        if (r.snapshot != kActive || (r.role != Role::kL2 && r.role != Role::kData && r.role != Role::kVmState) ||
            judged.count(r.entry_offset))
          continue;
        if (!img_.file().read(r.entry_offset, raw).ok()) continue;
        const uint64_t entry = load_be64(raw.data());
        if (((entry & kEntryCopied) != 0) == want) continue;
        Finding f = make_finding(
            "copied-follows", Category::kInfo, r.role == Role::kL2 ? "active L1" : fmt::format("L2 table 0x{:x}", r.table_offset),
            fmt::format("entry {} points at cluster {}, whose refcount is proposed to become {}: COPIED must then be {}",
                        r.index, c, field_value(rf, *rf.proposed), want ? "set" : "clear"),
            "apply together with the refcount proposal");
        f.table_offset = r.table_offset;
        f.at_field(r.entry_offset, 8, entry, kEntryCopied);
        f.index = r.index;
        f.cluster = c;
        f.propose(want ? kEntryCopied : 0, rf.risk);
        added_.push_back(std::move(f));
      }
    }
  }

  static bool settled(const Finding& f) {
    return f.category == Category::kInfo || f.category == Category::kFlag || f.proposed || f.resolved_by;
  }

  void header_bits() {
    findings_.insert(findings_.end(), added_.begin(), added_.end());
    bool refcounts_settled = true, all_settled = true, anything_else = false;
    for (const Finding& f : findings_) {
      const bool refcount = f.category == Category::kLeak || f.category == Category::kRefcount;
      if (refcount && !settled(f)) refcounts_settled = false;
      if (f.code == "header-corrupt-bit" || f.code == "header-dirty-bit" || f.category == Category::kInfo) continue;
      anything_else = true;
      if (!settled(f)) all_settled = false;
    }
    const uint64_t bits = img_.header().incompatible_features;
    for (Finding& f : findings_) {
      if (f.code == "header-dirty-bit" && refcounts_settled) {
        f.at_field(72, 8, bits, kIncompatDirty);
        f.propose(0, Risk::kSafe);
      } else if (f.code == "header-corrupt-bit" && all_settled) {
        f.at_field(72, 8, bits, kIncompatCorrupt);
        f.propose(0, anything_else ? Risk::kRisky : Risk::kSafe);
        if (anything_else) f.fix = "clear bit 1 of incompatible_features (offset 72) once the other proposals are applied";
      }
    }
  }

  const Image& img_;
  const Geometry& g_;
  const Layout& layout_;
  const std::vector<MetaRange>& metadata_;
  const RefCounter& counts_;
  const ReferrerMap& referrers_;
  std::vector<Finding>& findings_;
  std::unordered_set<uint64_t> suspect_tables_;  // file offsets of tables in doubt
  std::unordered_set<uint64_t> cross_linked_;    // clusters
  std::unordered_set<uint64_t> suspect_refblocks_;  // refcount table indices whose block is in doubt
  std::vector<ClusterSpan> contested_;             // sorted by first cluster, disjoint
  std::vector<ClusterSpan> meta_;                  // the metadata ranges, disjoint
  std::unordered_map<uint64_t, uint64_t> leaked_;  // unreferenced leaked cluster -> its refcount
  std::unordered_map<uint64_t, uint64_t> homes_;  // inferred home cluster -> entry offset
  std::unordered_map<uint64_t, uint64_t> refcount_offset_;  // cluster -> its proposed refcount's offset
  std::unordered_map<uint64_t, uint64_t> final_rc_;          // cluster -> proposed refcount
  struct Missed {
    uint64_t first, count;                // clusters without a refcount block
    std::optional<uint64_t> resolved_by;  // the proposal that brings it back, if any
  };
  std::vector<Missed> missed_ranges_;
  std::vector<Finding> added_;
};

}  // namespace

uint64_t field_value(const Finding& f, uint64_t value) {
  if (f.mask == 0) return 0;
  return (value & f.mask) >> __builtin_ctzll(f.mask);
}

void propose_fixes(const Image& img, const Layout& layout, const std::vector<MetaRange>& metadata,
                   const RefCounter& counts, const ReferrerMap& referrers, std::vector<Finding>& findings) {
  Proposer(img, layout, metadata, counts, referrers, findings).run();
}

}  // namespace qcow2
