#include "engine/check/propose.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/format/extent.h"
#include "engine/format/header.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

bool is_refcount_code(const std::string& c) {
  return c == "refcount-leak" || c == "refcount-error" || c == "refcount-zero";
}

// Entries whose stored value is wrong and may be restored from the layout.
bool is_damaged_entry_code(const std::string& c) {
  return c == "l2-unaligned" || c == "l2-past-eof" || c == "l2-reserved-bits";
}

class Proposer {
 public:
  Proposer(const Image& img, const RefCounter& counts, const ReferrerMap& referrers, std::vector<Finding>& findings)
      : img_(img), g_(img.geometry()), counts_(counts), referrers_(referrers), findings_(findings) {}

  void run() {
    mark_suspects();
    simple_proposals();
    index_leaks();
    infer_lost_l2_tables();
    infer_lost_entries();
    refcounts();
    copied_flags();
    header_bits();
  }

 private:
  uint64_t refs(uint64_t c) const { return c < counts_.clusters() ? counts_.get(c) : 0; }

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
      if (f.suspect || !f.current) continue;
      if (auto it = kClearBits.find(f.code); it != kClearBits.end()) f.propose(0, it->second);
    }
    // A refcount-table entry whose reserved bits hide a good block: its range's misses go
    // with the same entry's proposal.
    std::unordered_map<uint64_t, const Finding*> by_offset;
    for (const Finding& f : findings_)
      if (f.proposed && f.file_offset) by_offset[*f.file_offset] = &f;
    for (Finding& f : findings_)
      if (f.code == "refcount-table-miss" && f.file_offset && by_offset.count(*f.file_offset))
        f.resolved_by = *f.file_offset;
  }

  // Leaked clusters nothing references: where lost data may be.
  void index_leaks() {
    for (size_t i = 0; i < findings_.size(); ++i) {
      const Finding& f = findings_[i];
      if (f.code != "refcount-leak" || !f.cluster || f.suspect || refs(*f.cluster) != 0) continue;
      leaked_[*f.cluster] = i;
    }
  }

  uint64_t refcount_of(const Finding& f) const { return field_value(f, f.current.value_or(0)); }

  // True when cluster c could have been the home of a lost entry of a table named `times` times.
  bool free_home(uint64_t c, uint64_t times) const {
    auto it = leaked_.find(c);
    return it != leaked_.end() && refcount_of(findings_[it->second]) == times && !homes_.count(c);
  }

  // Tables to look at: those with damaged entries, and those that map the clusters beside a
  // leaked run (the referrer pass looked them up).
  std::set<uint64_t> candidate_tables() const {
    std::set<uint64_t> out;
    for (const Finding& f : findings_)
      if (is_damaged_entry_code(f.code) && f.table_offset && !f.suspect) out.insert(*f.table_offset);
    for (const auto& [c, i] : leaked_)
      for (uint64_t n : {c - 1, c + 1})
        if (auto it = referrers_.find(n); it != referrers_.end())
          for (const Referrer& r : it->second.referrers)
            if ((r.role == Role::kData || r.role == Role::kVmState) && !suspect_tables_.count(r.table_offset))
              out.insert(r.table_offset);
    return out;
  }

  // An L1 entry that no longer names its L2 table (unaligned, past the end, into another
  // structure): when exactly one leaked cluster reads as an L2 table whose every data cluster is
  // leaked too, with nothing else referencing any of them, that cluster is the lost table.
  void infer_lost_l2_tables() {
    static const std::set<std::string> kLostTable = {"l1-unaligned", "l1-past-eof", "l1-cross-link"};
    std::vector<size_t> damaged;
    for (size_t i = 0; i < findings_.size(); ++i)
      if (kLostTable.count(findings_[i].code) && !findings_[i].suspect && findings_[i].current) damaged.push_back(i);
    if (damaged.size() != 1 || leaked_.size() > kMaxLeaksToRead) return;
    std::vector<uint8_t> table;
    std::optional<uint64_t> found;
    std::vector<uint64_t> found_data;
    for (const auto& [c, i] : leaked_) {
      if (refcount_of(findings_[i]) != 1 || !img_.read_cluster(c << g_.cluster_bits, table).ok()) continue;
      std::vector<uint64_t> data;
      if (!plausible_l2_table(table, data)) continue;
      if (found) return;  // two candidates: nothing is proven
      found = c;
      found_data = std::move(data);
    }
    if (!found) return;
    Finding& f = findings_[damaged.front()];
    const uint64_t table_offset = *found << g_.cluster_bits;
    f.mask = ~0ULL;
    f.propose(kEntryCopied | table_offset, Risk::kRisky);
    f.fix = fmt::format("cluster 0x{:x} is leaked, reads as an L2 table, and every data cluster it maps is leaked "
                        "too: most likely the lost table; point the entry at it again",
                        table_offset);
    homes_[*found] = *f.file_offset;
    for (uint64_t d : found_data) homes_[d] = *f.file_offset;
  }
  static constexpr size_t kMaxLeaksToRead = 65536;

  // Every entry is empty or names one cluster inside the file with no reserved bits; at least
  // one names data; every cluster named is leaked with refcount 1 and named once.
  bool plausible_l2_table(const std::vector<uint8_t>& table, std::vector<uint64_t>& data) const {
    std::unordered_set<uint64_t> seen;
    for (uint64_t i = 0; i < g_.l2_entries; ++i) {
      const L2Entry e = l2_entry_at(table, i, g_);
      if (e.raw == 0) continue;
      if (e.kind == L2Kind::kZeroPlain && e.raw == kL2ZeroFlag) continue;
      if (e.kind != L2Kind::kNormal || e.reserved || e.unaligned ||
          !inside_file(e.host_offset, g_.cluster_size, img_.file_size()))
        return false;
      const uint64_t c = e.host_offset >> g_.cluster_bits;
      auto it = leaked_.find(c);
      if (it == leaked_.end() || refcount_of(findings_[it->second]) != 1 || !seen.insert(c).second) return false;
      data.push_back(c);
    }
    return !data.empty();
  }

  void infer_lost_entries() {
    if (g_.extended_l2 || g_.external_data || leaked_.empty()) return;
    std::unordered_map<uint64_t, size_t> damaged;  // entry offset -> finding
    for (size_t i = 0; i < findings_.size(); ++i)
      if (is_damaged_entry_code(findings_[i].code) && findings_[i].file_offset && !findings_[i].suspect)
        damaged[*findings_[i].file_offset] = i;
    std::vector<uint8_t> table;
    for (uint64_t offset : candidate_tables()) {
      if (!img_.read_cluster(offset, table).ok()) continue;
      infer_in_table(offset, table, damaged);
    }
    // An unaligned offset whose cluster (the offset rounded down) waits for it, leaked with
    // nothing else referencing it: the low bits are what went wrong.
    for (const auto& [at, i] : damaged) {
      Finding& f = findings_[i];
      if (f.code != "l2-unaligned" || f.proposed || !f.table_offset) continue;
      const uint64_t host = (*f.current & kOffsetMask) & ~(g_.cluster_size - 1);
      if (host == 0 || !free_home(host >> g_.cluster_bits, refs(*f.table_offset >> g_.cluster_bits))) continue;
      homes_[host >> g_.cluster_bits] = at;
      f.mask = ~0ULL;
      f.propose((*f.current & kEntryCopied) | host, Risk::kRisky);
      f.fix = fmt::format("cluster 0x{:x}, where the offset points into, is referenced by nothing: this entry most "
                          "likely held 0x{:016x}",
                          host, *f.proposed);
    }
  }

  // Runs of zero or damaged entries between two sound entries whose clusters are consecutive.
  void infer_in_table(uint64_t offset, const std::vector<uint8_t>& table,
                      const std::unordered_map<uint64_t, size_t>& damaged) {
    const uint64_t n = g_.l2_entries;
    const uint64_t times = refs(offset >> g_.cluster_bits);  // L1 entries naming this table
    auto at = [&](uint64_t i) { return offset + i * g_.l2_entry_bytes; };
    auto gap = [&](uint64_t i) { return damaged.count(at(i)) || l2_entry_at(table, i, g_).raw == 0; };
    auto sound = [&](uint64_t i, L2Entry& e) {
      if (damaged.count(at(i))) return false;
      e = l2_entry_at(table, i, g_);
      return e.kind == L2Kind::kNormal && !e.unaligned && !e.reserved &&
             data_placement(e, g_, img_.file_size()) == Placement::kInside;
    };
    for (uint64_t a = 1; a + 1 < n; ++a) {
      if (!gap(a)) continue;
      uint64_t b = a;
      while (b + 1 < n && gap(b + 1)) ++b;
      const uint64_t first = a, last = b;
      a = b;  // the next run starts after this one
      L2Entry before, after;
      if (last + 1 >= n || !sound(first - 1, before) || !sound(last + 1, after)) continue;
      if (after.host_offset != before.host_offset + (last - first + 2) * g_.cluster_size) continue;
      bool any_damaged = false, all_free = true;
      for (uint64_t k = first; k <= last; ++k) {
        any_damaged |= damaged.count(at(k)) > 0;
        all_free &= free_home((before.host_offset >> g_.cluster_bits) + (k - first + 1), times);
      }
      // Zero entries alone are no damage: only clusters that wait for them, leaked with exactly
      // the refcount the entries would give, make them lost entries.
      if (!all_free || (!any_damaged && last - first + 1 > kMaxZeroRun)) continue;
      const uint64_t copied = before.raw & after.raw & kEntryCopied;
      for (uint64_t k = first; k <= last; ++k) {
        const uint64_t host = before.host_offset + (k - first + 1) * g_.cluster_size;
        const uint64_t value = copied | host;
        homes_[host >> g_.cluster_bits] = at(k);
        if (auto d = damaged.find(at(k)); d != damaged.end()) {
          Finding& f = findings_[d->second];
          f.mask = ~0ULL;
          f.propose(value, Risk::kRisky);
          f.fix = fmt::format("the neighbours map consecutive clusters and cluster 0x{:x} between them is "
                              "referenced by nothing: this entry most likely held 0x{:016x}",
                              host, value);
        } else {
          added_.push_back(lost_entry(offset, k, host, value, first - 1, last + 1));
        }
      }
    }
  }
  static constexpr uint64_t kMaxZeroRun = 64;  // longer zero runs say more about discards than loss

  Finding lost_entry(uint64_t table, uint64_t k, uint64_t host, uint64_t value, uint64_t before, uint64_t after) const {
    Finding f = make_finding(
        "l2-lost-entry", Category::kLeak, fmt::format("L2 table 0x{:x}", table),
        fmt::format("entry {} is zero, but entries {} and {} map consecutive clusters and cluster 0x{:x} between "
                    "them is leaked with nothing referencing it: most likely this entry's data",
                    k, before, after, host),
        fmt::format("re-link it: write 0x{:016x} (the guest then reads that cluster's data again)", value));
    f.table_offset = table;
    f.at_field(table + k * g_.l2_entry_bytes, 8, 0);
    f.index = k;
    f.propose(value, Risk::kRisky);
    return f;
  }

  // Some references may be missing from the count: a pointer that was not followed (an L1
  // entry, a snapshot, a damaged L2 entry) may name clusters that now look over-counted.
  // Lowering a refcount is then not safe: it may free what that pointer still needs.
  bool references_may_be_missing() const {
    static const std::set<std::string> kUnfollowed = {
        "l1-unaligned",      "l1-past-eof",           "l1-cross-link", "l2-unaligned",
        "l2-past-eof",       "l2-compressed-past-eof", "snapshot-table", "snapshot-l1",
        "snapshot-l1-cross-link", "l2-suspect-table",  "overlap",       "header-nb_snapshots",
        "header-snapshots_offset"};
    for (const Finding& f : findings_)
      if (kUnfollowed.count(f.code) && !f.proposed) return true;
    return false;
  }

  void refcounts() {
    std::vector<uint8_t> content;
    const bool missing = references_may_be_missing();
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
        f.risk = holds_nothing(c, content) ? Risk::kSafe : Risk::kDestructive;
        if (f.risk == Risk::kDestructive)
          f.fix = "set the refcount to 0 only if the cluster's data is not wanted: it may hold what a damaged "
                  "entry lost";
      }
    }
  }

  // A cluster that reads as all zeros holds nothing a damaged entry lost; with a backing file
  // even zeros matter (they hide the backing file's data), so nothing is free of data there.
  bool holds_nothing(uint64_t c, std::vector<uint8_t>& buf) const {
    if (img_.header().backing_file_offset != 0) return false;
    const uint64_t off = c << g_.cluster_bits;
    if (off >= img_.file_size()) return true;
    buf.resize(std::min<uint64_t>(g_.cluster_size, img_.file_size() - off));
    if (!img_.file().read(off, buf).ok()) return false;
    return std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; });
  }

  // The refcount each cluster will have once the proposals are applied, where it differs from
  // the one on disk: the proposed one, or for a range without a refcount block the references
  // (what a rebuild of that block gives).
  std::optional<uint64_t> final_refcount(uint64_t c) const {
    if (auto it = final_rc_.find(c); it != final_rc_.end()) return it->second;
    for (const auto& [first, count] : missed_ranges_)
      if (first <= c && c < first + count) return refs(c);
    return std::nullopt;
  }

  // COPIED must be set exactly when the refcount the proposals leave is 1.
  void copied_flags() {
    for (const Finding& f : findings_) {
      if (is_refcount_code(f.code) && f.cluster && f.proposed) {
        final_rc_[*f.cluster] = field_value(f, *f.proposed);
        refcount_offset_[*f.cluster] = *f.file_offset;
      }
      if (f.code == "refcount-table-miss" && f.index)
        missed_ranges_.emplace_back(*f.index << g_.refblock_bits, g_.refblock_entries);
    }
    std::unordered_set<uint64_t> judged;  // entry offsets with a COPIED finding already
    for (Finding& f : findings_) {
      if ((f.code != "copied-l1" && f.code != "copied-l2") || !f.cluster) continue;
      judged.insert(*f.file_offset);
      if (cross_linked_.count(*f.cluster) || f.suspect) {
        f.withdraw_proposal();
        continue;
      }
      const std::optional<uint64_t> rc = final_refcount(*f.cluster);
      if (!rc) continue;
      const bool want = *rc == 1;
      const bool has = (f.current.value_or(0) & kEntryCopied) != 0;
      if (want == has) {
        f.withdraw_proposal();
        f.message += fmt::format("; right once the refcount of cluster {} is {} (see the refcount findings)",
                                 *f.cluster, *rc);
        f.fix = "nothing to change here: apply the refcount proposal";
        if (auto o = refcount_offset_.find(*f.cluster); o != refcount_offset_.end()) f.resolved_by = o->second;
        else if (f.file_offset) f.resolved_by = *f.file_offset;
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
        if (r.snapshot != kActive || (r.role != Role::kL2 && r.role != Role::kData) || judged.count(r.entry_offset))
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
  const RefCounter& counts_;
  const ReferrerMap& referrers_;
  std::vector<Finding>& findings_;
  std::unordered_set<uint64_t> suspect_tables_;  // file offsets of tables in doubt
  std::unordered_set<uint64_t> cross_linked_;    // clusters
  std::unordered_map<uint64_t, size_t> leaked_;  // unreferenced leaked cluster -> its finding
  std::unordered_map<uint64_t, uint64_t> homes_;  // inferred home cluster -> entry offset
  std::unordered_map<uint64_t, uint64_t> refcount_offset_;  // cluster -> its proposed refcount's offset
  std::unordered_map<uint64_t, uint64_t> final_rc_;          // cluster -> proposed refcount
  std::vector<std::pair<uint64_t, uint64_t>> missed_ranges_;  // clusters without a refcount block
  std::vector<Finding> added_;
};

}  // namespace

uint64_t field_value(const Finding& f, uint64_t value) {
  if (f.mask == 0) return 0;
  return (value & f.mask) >> __builtin_ctzll(f.mask);
}

void propose_fixes(const Image& img, const RefCounter& counts, const ReferrerMap& referrers,
                   std::vector<Finding>& findings) {
  Proposer(img, counts, referrers, findings).run();
}

}  // namespace qcow2
