#include "engine/check/referrers.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "engine/check/reference_walk.h"
#include "engine/check/refcount_compare.h"
#include "engine/format/l1_entry.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

class ReferrerSink : public ReferenceSink {
 public:
  explicit ReferrerSink(const std::unordered_set<uint64_t>& wanted) : wanted_(wanted) {}

  void reference(uint64_t first, uint64_t count, uint64_t times, const Referrer& r) override {
    for (uint64_t c = first; c < first + count; ++c) {
      if (!wanted_.count(c)) continue;
      ReferrerInfo& s = seen_[c];
      s.times += times;
      if (s.referrers.size() < ReferrerInfo::kMaxListed) s.referrers.push_back(r);
      else ++s.left_out;
    }
  }
  void active(uint64_t cluster, bool copied) override {
    if (!wanted_.count(cluster)) return;
    ReferrerInfo& s = seen_[cluster];
    (copied ? s.active_copied : s.active_not_copied) = true;
  }

  ReferrerMap take() { return std::move(seen_); }

 private:
  const std::unordered_set<uint64_t>& wanted_;
  ReferrerMap seen_;
};

std::string table_name(const Image& img, int32_t snapshot) {
  if (snapshot == kActive) return "active";
  // Snapshots are stored by index: no search per referrer (65536 snapshots x referrers).
  const auto& snaps = img.snapshots().snapshots;
  if (snapshot >= 0 && static_cast<size_t>(snapshot) < snaps.size())
    return fmt::format("snapshot {}", escape_text(snaps[static_cast<size_t>(snapshot)].id));
  return fmt::format("snapshot #{}", snapshot);
}

void copied_findings(const Image& img, uint64_t c, uint64_t rc, const ReferrerInfo& s, std::vector<Finding>& out) {
  const Geometry& g = img.geometry();
  for (const Referrer& r : s.referrers) {
    // QEMU checks COPIED on every active entry, the VM state's beyond the disk too.
    if (r.snapshot != kActive || (r.role != Role::kL2 && r.role != Role::kData && r.role != Role::kVmState)) continue;
    const bool is_l1 = r.role == Role::kL2;
    Finding f = make_finding(
        is_l1 ? "copied-l1" : "copied-l2", Category::kCopied,
        is_l1 ? std::string("active L1") : fmt::format("L2 table 0x{:x}", r.table_offset),
        fmt::format("{} entry {} points at cluster 0x{:x} with refcount {}, so COPIED must be {}",
                    is_l1 ? "L1" : "L2", r.index, c << g.cluster_bits, rc, rc == 1 ? "set" : "clear"),
        fmt::format("{} bit 63 of the 8-byte entry at 0x{:x}", rc == 1 ? "set" : "clear", r.entry_offset));
    uint8_t raw[8] = {};
    if (!img.file().read(r.entry_offset, raw).ok()) continue;  // the walk just read it
    f.table_offset = r.table_offset;
    f.at_field(r.entry_offset, 8, load_be64(raw), kEntryCopied);
    f.propose(rc == 1 ? kEntryCopied : 0, Risk::kSafe);
    f.index = r.index;
    f.cluster = c;
    if (!is_l1) f.guest_offset = r.guest_offset;
    out.push_back(std::move(f));
  }
}

}  // namespace

std::string describe_referrer(const Image& img, const Referrer& r) {
  switch (r.role) {
    case Role::kData:
    case Role::kVmState:
    case Role::kCompressed:
      return fmt::format("{} L2 table 0x{:x} entry {} ({} 0x{:x})", table_name(img, r.snapshot), r.table_offset,
                         r.index, r.role == Role::kVmState ? "VM state" : "guest", r.guest_offset);
    case Role::kL2:
      return fmt::format("{} L1 entry {} at 0x{:x} (as an L2 table)", table_name(img, r.snapshot), r.index,
                         r.entry_offset);
    case Role::kRefBlock:
      return fmt::format("refcount table entry {} at 0x{:x} (as a refcount block)", r.index, r.entry_offset);
    case Role::kBitmapData:
      return fmt::format("bitmap table 0x{:x} entry {} (as bitmap data)", r.table_offset, r.index);
    default:
      return fmt::format("the {} ({})", role_name(r.role),
                         r.entry_offset ? fmt::format("pointer at 0x{:x}", r.entry_offset) : "header");
  }
}

Result<ReferrerMap> collect_referrers(const Image& img, const Layout& layout,
                                      const std::unordered_set<uint64_t>& wanted,
                                      const std::atomic<bool>* cancel) {
  ReferrerSink sink(wanted);
  WalkOptions opts;
  opts.verify_compressed = false;
  opts.cancel = cancel;
  QCOW2_RETURN_IF_ERROR(walk_references(img, layout, sink, nullptr, opts));
  return sink.take();
}

void referrer_findings(const Image& img, const std::unordered_map<uint64_t, uint64_t>& suspects,
                       const ReferrerMap& referrers, std::vector<Finding>& findings) {
  const Geometry& g = img.geometry();
  std::vector<uint64_t> order;
  for (const auto& [c, rc] : suspects)
    if (referrers.count(c)) order.push_back(c);
  std::sort(order.begin(), order.end());
  std::map<std::string, uint64_t> copied_made;
  for (uint64_t c : order) {
    const ReferrerInfo& s = referrers.at(c);
    const uint64_t rc = suspects.at(c);
    // Without a refcount block the refcount reads as 0: COPIED disagrees with it as qemu-img
    // sees it (the proposals judge the flag against the rebuilt block), but sharing cannot be
    // judged (the table miss says what is wrong); overlaps of roles still can.
    const bool known = rc != kNoRefcount;
    const uint64_t seen_rc = known ? rc : 0;
    if ((s.active_copied && seen_rc != 1) || (s.active_not_copied && seen_rc == 1)) {
      std::vector<Finding> made;
      copied_findings(img, c, seen_rc, s, made);
      for (Finding& f : made)
        if (++copied_made[f.code] <= kMaxFindingsPerCode) findings.push_back(std::move(f));
    }
    if (s.referrers.size() < 2 && s.times < 2) continue;
    std::vector<std::string> listed;

    bool metadata = false, data = false, roles_differ = false;
    std::string who;
    for (const Referrer& r : s.referrers) {
      (is_metadata(r.role) ? metadata : data) = true;
      roles_differ |= r.role != s.referrers.front().role;
      listed.push_back(describe_referrer(img, r));
      who += (who.empty() ? "" : "; ") + listed.back();
    }
    const bool overlap = metadata && (data || roles_differ);
    if (!overlap && (!known || rc >= s.times)) continue;  // legitimately shared, or not to be judged
    // Shared the way snapshots and compression share clusters (one kind of referrer, and no
    // active entry that took the cluster as its own): only the refcount is too low, which the
    // refcount finding says. A COPIED active referrer is what QEMU handing a cluster out again
    // leaves: that is the cross-link.
    const Role kind = s.referrers.front().role;
    const bool shared_by_design =
        !overlap && !roles_differ && !s.active_copied && (kind == Role::kData || kind == Role::kCompressed || kind == Role::kL2);
    if (shared_by_design) continue;
    Finding f = make_finding(
        overlap ? "overlap" : "cluster-shared", overlap ? Category::kCorrupt : Category::kRefcount,
        "host cluster",
        fmt::format("cluster {} at 0x{:x} (refcount {}) is referenced {} times: {}{}", c, c << g.cluster_bits,
                    known ? fmt::to_string(rc) : std::string("unknown: no refcount block"),
                    s.times, who, s.left_out ? fmt::format("; and {} more not listed", s.left_out) : ""),
        overlap ? "the structures overwrite each other: keep the one the data belongs to, restore the other "
                  "from a backup"
                : "give each referrer its own copy of the cluster before any repair of refcounts");
    f.file_offset = c << g.cluster_bits;
    f.width = static_cast<uint32_t>(g.cluster_size);
    f.cluster = c;
    f.referrers = std::move(listed);
    f.referrers_left_out = s.left_out;
    findings.push_back(std::move(f));
  }
  for (const auto& [code, n] : copied_made)
    if (n > kMaxFindingsPerCode)
      findings.push_back(make_finding(code.c_str(), Category::kCopied, "",
                                      fmt::format("{} more '{}' findings not listed ({} in all)",
                                                  n - kMaxFindingsPerCode, code, n),
                                      "see the statistics for the totals"));
}

}  // namespace qcow2
