#include "engine/check/lost_data.h"

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <set>

#include "engine/check/propose.h"
#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"

namespace qcow2 {
namespace {

// Entries whose stored value is wrong and may be restored from the layout. Garbage often has
// bit 62 set and so reads as a compressed descriptor: one that points outside the file or at
// bytes that do not decompress is as damaged as an unaligned pointer (the layout around it,
// checked below, decides whether it is lost data).
bool is_damaged_entry_code(const std::string& c) {
  return c == "l2-unaligned" || c == "l2-past-eof" || c == "l2-reserved-bits" || c == "l2-compressed-past-eof" ||
         c == "l2-compressed-bad-stream";
}

class Inference {
 public:
  Inference(const Image& img, const RefCounter& counts, const ReferrerMap& referrers,
            const std::unordered_set<uint64_t>& suspect_tables, const std::unordered_map<uint64_t, uint64_t>& leaked,
            const std::function<bool(uint64_t)>& may_write, std::vector<Finding>& findings)
      : img_(img), g_(img.geometry()), counts_(counts), referrers_(referrers), suspect_tables_(suspect_tables),
        leaked_(leaked), may_write_(may_write), findings_(findings) {}

  LostData run() {
    infer_lost_l2_tables();
    infer_lost_entries();
    return std::move(out_);
  }

 private:
  uint64_t refs(uint64_t c) const { return c < counts_.clusters() ? counts_.get(c) : 0; }

  // The COPIED flag a re-linked entry of the table at `table_offset` must carry: set exactly
  // when the table belongs to the active image and its cluster will have refcount 1, as QEMU
  // keeps it (never taken from the damaged value, which may have lost it).
  uint64_t copied_for(uint64_t table_offset, uint64_t refcount) const {
    const uint64_t t = table_offset >> g_.cluster_bits;
    return t < counts_.clusters() && counts_.active(t) && refcount == 1 ? kEntryCopied : 0;
  }

  // True when cluster c could have been the home of a lost entry of a table named `times` times.
  bool free_home(uint64_t c, uint64_t times) const {
    auto it = leaked_.find(c);
    return it != leaked_.end() && it->second == times && !out_.homes.count(c);
  }

  // Tables to look at: those with damaged entries, and those that map the clusters beside a
  // leaked run (the referrer pass looked them up).
  std::set<uint64_t> candidate_tables() const {
    std::set<uint64_t> out;
    for (const Finding& f : findings_)
      if (is_damaged_entry_code(f.code) && f.table_offset && !f.suspect) out.insert(*f.table_offset);
    for (const auto& [c, rc] : leaked_)
      for (uint64_t n : {c - 1, c + 1})
        if (auto it = referrers_.find(n); it != referrers_.end())
          for (const Referrer& r : it->second.referrers)
            if ((r.role == Role::kData || r.role == Role::kVmState) && !suspect_tables_.count(r.table_offset))
              out.insert(r.table_offset);
    return out;
  }

  // An active L1 entry that no longer names its L2 table (unaligned, past the end, into
  // another structure, offset 0 with flags left): when exactly one leaked cluster reads as an
  // active L2 table whose every data cluster is leaked too, with nothing else referencing any
  // of them, that cluster is the lost table.
  void infer_lost_l2_tables() {
    static const std::set<std::string> kLostTable = {"l1-unaligned", "l1-past-eof", "l1-cross-link",
                                                     "l1-flags-without-table"};
    std::vector<size_t> damaged;
    for (size_t i = 0; i < findings_.size(); ++i) {
      const Finding& f = findings_[i];
      if (kLostTable.count(f.code) && !f.suspect && f.current && f.table == "active L1" && may_write_(*f.file_offset))
        damaged.push_back(i);
    }
    if (damaged.size() != 1 || leaked_.size() > kMaxLeaksToRead) return;
    std::vector<uint8_t> table;
    std::optional<uint64_t> found;
    std::vector<uint64_t> found_data;
    for (const auto& [c, rc] : leaked_) {
      if (rc != 1 || !img_.read_cluster(c << g_.cluster_bits, table).ok()) continue;
      std::vector<uint64_t> data;
      if (!plausible_l2_table(table, data)) continue;
      if (found) return;  // two candidates: nothing is proven
      found = c;
      found_data = std::move(data);
    }
    if (!found || !may_write_(*findings_[damaged.front()].file_offset)) return;
    Finding& f = findings_[damaged.front()];
    const uint64_t table_offset = *found << g_.cluster_bits;
    f.mask = ~0ULL;
    f.propose(kEntryCopied | table_offset, Risk::kRisky);
    f.fix = fmt::format("cluster 0x{:x} is leaked, reads as an L2 table, and every data cluster it maps is leaked "
                        "too: most likely the lost table; point the entry at it again",
                        table_offset);
    out_.homes[*found] = *f.file_offset;
    for (uint64_t d : found_data) out_.homes[d] = *f.file_offset;
  }
  static constexpr size_t kMaxLeaksToRead = 65536;

  // What QEMU leaves in an active L2 table whose clusters it alone owns: every entry is empty,
  // a zero cluster, or one data cluster inside the file with no reserved bits and COPIED set
  // (refcount 1); at least one names data; every cluster named is leaked with refcount 1 and
  // named once. Refcount blocks, bitmap tables and snapshot tables have no COPIED bits: they
  // never pass.
  bool plausible_l2_table(const std::vector<uint8_t>& table, std::vector<uint64_t>& data) const {
    if (g_.extended_l2 || g_.external_data) return false;
    std::unordered_set<uint64_t> seen;
    for (uint64_t i = 0; i < g_.l2_entries; ++i) {
      const L2Entry e = l2_entry_at(table, i, g_);
      if (e.raw == 0) continue;
      if (e.kind == L2Kind::kZeroPlain && e.raw == kL2ZeroFlag) continue;
      if (e.kind != L2Kind::kNormal || e.reserved || e.unaligned || !e.copied ||
          !inside_file(e.host_offset, g_.cluster_size, img_.file_size()))
        return false;
      const uint64_t c = e.host_offset >> g_.cluster_bits;
      auto it = leaked_.find(c);
      if (it == leaked_.end() || it->second != 1 || !seen.insert(c).second) return false;
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
      const uint64_t times = refs(*f.table_offset >> g_.cluster_bits);
      if (host == 0 || !free_home(host >> g_.cluster_bits, times) || !may_write_(at)) continue;
      out_.homes[host >> g_.cluster_bits] = at;
      f.mask = ~0ULL;
      f.propose(copied_for(*f.table_offset, times) | host, Risk::kRisky);
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
      if (!may_write_(at(first))) continue;
      const uint64_t copied = copied_for(offset, times);
      for (uint64_t k = first; k <= last; ++k) {
        const uint64_t host = before.host_offset + (k - first + 1) * g_.cluster_size;
        const uint64_t value = copied | host;
        out_.homes[host >> g_.cluster_bits] = at(k);
        if (auto d = damaged.find(at(k)); d != damaged.end()) {
          Finding& f = findings_[d->second];
          f.mask = ~0ULL;
          f.propose(value, Risk::kRisky);
          f.fix = fmt::format("the neighbours map consecutive clusters and cluster 0x{:x} between them is "
                              "referenced by nothing: this entry most likely held 0x{:016x}",
                              host, value);
        } else {
          out_.entries.push_back(lost_entry(offset, k, host, value, first - 1, last + 1));
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

  const Image& img_;
  const Geometry& g_;
  const RefCounter& counts_;
  const ReferrerMap& referrers_;
  const std::unordered_set<uint64_t>& suspect_tables_;
  const std::unordered_map<uint64_t, uint64_t>& leaked_;
  const std::function<bool(uint64_t)>& may_write_;
  std::vector<Finding>& findings_;
  LostData out_;
};

}  // namespace

LostData infer_lost_data(const Image& img, const RefCounter& counts, const ReferrerMap& referrers,
                         const std::unordered_set<uint64_t>& suspect_tables,
                         const std::unordered_map<uint64_t, uint64_t>& leaked,
                         const std::function<bool(uint64_t)>& may_write, std::vector<Finding>& findings) {
  return Inference(img, counts, referrers, suspect_tables, leaked, may_write, findings).run();
}

}  // namespace qcow2
