#include "engine/repair/plan_refcounts.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "engine/check/layout.h"
#include "engine/check/lowering.h"
#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

bool is_refcount_code(const std::string& c) {
  return c == "refcount-leak" || c == "refcount-error" || c == "refcount-zero";
}

// Counts of what was held back, for the plan's skipped lines.
struct Held {
  uint64_t shared = 0, data = 0, unfollowed = 0, overflow = 0, not_raised = 0, not_lowered = 0;
  uint64_t first_data = 0;
};

class Targets {
 public:
  Targets(const Image& planned, const CheckResult& check, const RefcountPolicy& p, bool rebuilding)
      : img_(planned), g_(planned.geometry()), counts_(*check.counts), layout_(*check.layout), p_(p),
        rebuilding_(rebuilding), missing_(references_may_be_missing(check.findings)) {
    for (const Finding& f : check.findings) {
      if (!f.cluster) continue;
      if (f.code == "overlap" || (f.code == "cluster-shared" && !p.trust_shared) ||
          (is_refcount_code(f.code) && f.suspect))
        keep_.push_back(*f.cluster);
    }
    // The refcount structure's own clusters, as the check counted them (one reference each).
    const Header& h = planned.header();
    const ClusterSpan t = cluster_span(h.refcount_table_offset, uint64_t{h.refcount_table_clusters} << g_.cluster_bits,
                                       g_.cluster_bits);
    for (uint64_t c = t.first; c < t.first + t.count; ++c) self_.push_back(c);
    for (uint64_t i = 0; i < layout_.reftable().size(); ++i)
      if (layout_.block_ok(i)) self_.push_back(g_.cluster_index(layout_.reftable()[i] & ~kRefTableReservedMask));
    for (auto* v : {&keep_, &self_}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
  }

  // The refcount cluster `c` gets, holding `ondisk` now (none: no block describes it).
  uint64_t target(uint64_t c, std::optional<uint64_t> ondisk) {
    const uint64_t now = ondisk.value_or(0);
    uint64_t refs = c < counts_.clusters() ? counts_.get(c) : 0;
    const bool old_structure = rebuilding_ && self_.has(c);
    if (old_structure && refs > 0) --refs;  // the new structure replaces it
    if (keep_.has(c)) {
      if (ondisk && *ondisk != refs) ++held_.shared;
      return ondisk ? *ondisk : refs;
    }
    if (refs > refcount_max(layout_order())) {
      ++held_.overflow;
      return refcount_max(layout_order());
    }
    if (refs > now) {
      if (!p_.raise) return ++held_.not_raised, now;
      return refs;
    }
    if (refs == now) return now;
    // Lowering.
    if (old_structure && refs == 0) return 0;
    if (released(c, refs)) {
      if (refs > 0) return refs;
      if (missing_ && !p_.destructive) return ++held_.unfollowed, now;
      return ++destructive_, 0;  // what the plan removed was all that used it: its data goes
    }
    if (!p_.lower) return ++held_.not_lowered, now;
    if (refs > 0) return refs;  // still referenced: a count too high, nothing freed
    const bool unsafe = missing_ || !cluster_holds_nothing(img_, c, buf_);
    if (!unsafe) return 0;
    if (p_.destructive) return ++destructive_, 0;
    if (missing_) return ++held_.unfollowed, now;
    if (held_.data++ == 0) held_.first_data = c;
    return now;
  }

  const Held& held() const { return held_; }
  // Clusters freed that may have held data (with policy.destructive, or released by the plan).
  uint64_t destructive_lowers() const { return destructive_; }

 private:
  // Whether the plan took references from cluster `c`, which has `refs` now.
  bool released(uint64_t c, uint64_t refs) const {
    const RefCounter* before = p_.released_from;
    return before && c < before->clusters() && before->get(c) > refs;
  }

  uint32_t layout_order() const { return g_.refcount_order; }

  const Image& img_;
  const Geometry& g_;
  const RefCounter& counts_;
  const Layout& layout_;
  RefcountPolicy p_;
  bool rebuilding_;
  bool missing_;
  // Sorted clusters, asked in increasing order (both callers walk the clusters in order): a
  // cursor answers in constant time where a hash set would cost a lookup per cluster of a
  // multi-terabyte image.
  struct Sorted : std::vector<uint64_t> {
    size_t at = 0;
    bool has(uint64_t c) {
      if (at > 0 && (at > size() || (*this)[at - 1] > c)) at = 0;  // asked out of order: start again
      while (at < size() && (*this)[at] < c) ++at;
      return at < size() && (*this)[at] == c;
    }
  };
  Sorted keep_, self_;
  std::vector<uint8_t> buf_;
  Held held_;
  uint64_t destructive_ = 0;
};

void held_lines(const Held& h, Plan& plan) {
  if (h.shared)
    plan.skipped.push_back(fmt::format("{} clusters shared by several structures keep their refcounts: see the "
                                       "cross-link findings (-R reuse gives each referrer its own copy)",
                                       h.shared));
  if (h.data)
    plan.skipped.push_back(fmt::format("{} leaked clusters hold data (the first is cluster {}) and keep their "
                                       "refcounts: they may hold what a damaged entry lost; add 'destructive' "
                                       "(--destructive) to free them",
                                       h.data, h.first_data));
  if (h.unfollowed)
    plan.skipped.push_back(fmt::format("{} leaks keep their refcounts: some pointers were not followed (see the "
                                       "findings) and may still need those clusters; repair them first, or add "
                                       "'destructive' (--destructive)",
                                       h.unfollowed));
  if (h.overflow)
    plan.skipped.push_back(fmt::format("{} clusters have more references than a refcount of this width holds", h.overflow));
  if (h.not_raised) plan.skipped.push_back(fmt::format("{} refcounts too low are left for -R error", h.not_raised));
  if (h.not_lowered) plan.skipped.push_back(fmt::format("{} leaks are left for -R leak", h.not_lowered));
}

// Whether the structure as it is can hold the targets: every reftable entry names a good
// block or nothing, and every cluster some reference needs lies in a good block's range.
bool can_patch_in_place(const Image& img, const CheckResult& check) {
  const Layout& layout = *check.layout;
  const Geometry& g = img.geometry();
  const RefCounter& counts = *check.counts;
  const std::vector<uint64_t>& table = layout.reftable();
  for (uint64_t i = 0; i < table.size(); ++i)
    if (!layout.block_ok(i) && table[i] != 0) return false;
  for (uint64_t first = 0; first < counts.clusters(); first += g.refblock_entries) {
    const uint64_t i = first >> g.refblock_bits;
    if (layout.block_ok(i)) continue;
    for (uint64_t c = first; c < std::min(counts.clusters(), first + g.refblock_entries); ++c)
      if (counts.get(c) > 0) return false;
  }
  return true;
}

Status patch_in_place(PlanBuilder& b, const CheckResult& check, const RefcountPolicy& p) {
  const Image& img = b.planned_image();
  const Geometry& g = img.geometry();
  const Layout& layout = *check.layout;
  Targets targets(img, check, p, false);
  std::vector<uint8_t> block, updated;
  for (uint64_t i = 0; i < layout.reftable().size(); ++i) {
    if (!layout.block_ok(i)) continue;
    const uint64_t off = layout.reftable()[i] & ~kRefTableReservedMask;
    QCOW2_RETURN_IF_ERROR(img.read_cluster(off, block));
    updated = block;
    const uint64_t taken_before = targets.destructive_lowers();
    for (uint64_t j = 0; j < g.refblock_entries; ++j) {
      const uint64_t now = refcount_at(block, j, g.refcount_order);
      const uint64_t want = targets.target((i << g.refblock_bits) + j, now);
      if (want != now) set_refcount_at(updated, j, g.refcount_order, want);
    }
    const bool destructive = targets.destructive_lowers() != taken_before;
    // The changed bytes, in runs (nearby changes share an edit, so a block gets a few).
    for (size_t k = 0; k < block.size();) {
      if (block[k] == updated[k]) {
        ++k;
        continue;
      }
      size_t end = k + 1, last = k + 1;
      while (end < block.size() && end < last + 32) {
        if (block[end] != updated[end]) last = end + 1;
        ++end;
      }
      QCOW2_RETURN_IF_ERROR(b.replace(off + k, std::vector<uint8_t>(updated.begin() + k, updated.begin() + last),
                                      Role::kRefBlock, "refcount",
                                      fmt::format("refcount block {}: refcounts set to the references", i),
                                      destructive ? Risk::kDestructive : Risk::kSafe));
      k = last;
    }
  }
  held_lines(targets.held(), b.plan());
  return Status::Ok();
}

Status rebuild(PlanBuilder& b, const CheckResult& check, const RefcountPolicy& p) {
  const Image& img = b.planned_image();
  const Geometry& g = img.geometry();
  const Layout& layout = *check.layout;
  const uint64_t cs = g.cluster_size;
  const uint64_t start = b.next_append_offset() >> g.cluster_bits;  // first new cluster
  const uint64_t covered = std::max<uint64_t>(check.counts->clusters(), start);
  // Blocks for every cluster up to the end of the new structure, which holds them and the
  // table: grow both until they cover themselves.
  uint64_t blocks = 0, table_clusters = 0;
  for (;;) {
    const uint64_t end = std::max(covered, start + blocks + table_clusters);
    const uint64_t nb = (end + g.refblock_entries - 1) >> g.refblock_bits;
    const uint64_t nt = std::max<uint64_t>(1, (nb * 8 + cs - 1) / cs);
    if (nb == blocks && nt == table_clusters) break;
    blocks = nb;
    table_clusters = nt;
  }
  if (table_clusters > 0xffffffffULL) return Status::InvalidArgument("the refcount table would need over 2^32 clusters");
  const uint64_t new_first = start, new_end = start + blocks + table_clusters;
  Targets targets(img, check, p, true);
  std::vector<uint8_t> old_block, table(table_clusters * cs, 0);
  for (uint64_t i = 0; i < blocks; ++i) {
    std::vector<uint8_t> block(cs, 0);
    const bool have_old = layout.block_ok(i);
    if (have_old)
      QCOW2_RETURN_IF_ERROR(img.read_cluster(layout.reftable()[i] & ~kRefTableReservedMask, old_block));
    for (uint64_t j = 0; j < g.refblock_entries; ++j) {
      const uint64_t c = (i << g.refblock_bits) + j;
      uint64_t want;
      if (c >= new_first && c < new_end) want = 1;
      else want = targets.target(c, have_old ? std::optional<uint64_t>(refcount_at(old_block, j, g.refcount_order))
                                             : std::nullopt);
      if (want) set_refcount_at(block, j, g.refcount_order, want);
    }
    const uint64_t at = b.append(std::move(block), "refcount-rebuild", fmt::format("new refcount block {}", i),
                                 Risk::kRisky);
    if (at != (new_first + i) << g.cluster_bits) return Status::InvalidArgument("internal: refcount rebuild blocks out of place");
    store_be64(table.data() + i * 8, at);
  }
  const uint64_t table_at = b.append(std::move(table), "refcount-rebuild", "new refcount table", Risk::kRisky);
  if (table_at != (new_first + blocks) << g.cluster_bits) return Status::InvalidArgument("internal: refcount rebuild table out of place");
  // refcount_table_offset and refcount_table_clusters, adjacent at 48: one write switches.
  std::vector<uint8_t> header(12);
  store_be64(header.data(), table_at);
  store_be32(header.data() + 8, static_cast<uint32_t>(table_clusters));
  QCOW2_RETURN_IF_ERROR(b.replace(48, std::move(header), Role::kHeader, "refcount-rebuild",
                                  "the header switched to the new refcount table",
                                  targets.destructive_lowers() ? Risk::kDestructive : Risk::kRisky));
  held_lines(targets.held(), b.plan());
  return Status::Ok();
}


// A refcount block another structure claims: one of the two pointers is wrong, and a new
// structure would decide for the other one (its clusters counted, the block dropped), making
// the damage look legitimate. The first such table entry, if any.
std::optional<uint64_t> contested_block(const Layout& layout) {
  for (uint64_t i = 0; i < layout.reftable().size(); ++i)
    if (layout.block(i) == Layout::Block::kCrossLink) return i;
  return std::nullopt;
}

}  // namespace

Status plan_refcounts(PlanBuilder& b, const CheckResult& planned, const RefcountPolicy& p) {
  if (!planned.counts || !planned.layout) return Status::InvalidArgument("the image cannot be walked: no refcounts can be planned");
  const bool in_place = !p.rebuild && can_patch_in_place(b.planned_image(), planned);
  if (!in_place && p.raise && !p.destructive)
    if (auto i = contested_block(*planned.layout)) {
      b.plan().skipped.push_back(fmt::format(
          "refcounts: refcount table entry {} names a block that another structure claims ({}): one of the two "
          "pointers is wrong, and a new refcount structure would side with the other; repair the wrong pointer "
          "first (see the findings), or add 'destructive' (--destructive) to rebuild anyway",
          *i, planned.layout->block_problem(*i)));
      return Status::Ok();
    }
  if (p.rebuild) return rebuild(b, planned, p);
  if (can_patch_in_place(b.planned_image(), planned)) return patch_in_place(b, planned, p);
  if (!p.raise) {
    b.plan().skipped.push_back("the refcount structure is damaged: -R error (or rebuild) builds a new one");
    RefcountPolicy only_leaks = p;
    return patch_in_place(b, planned, only_leaks);
  }
  return rebuild(b, planned, p);
}

}  // namespace qcow2
