#include "engine/repair/plan_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "engine/check/layout.h"
#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/format/refcount.h"
#include "engine/repair/plan_check_repair.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

struct Use {
  uint64_t entry_offset;  // file offset of the L2 entry
  uint64_t raw;
};

}  // namespace

Status plan_reuse(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  if (!check.counts || !check.layout) return Status::InvalidArgument("the image cannot be walked: nothing to rebuild");
  const Image& img = b.image();
  const Geometry& g = img.geometry();
  std::unordered_map<uint64_t, std::vector<Use>> uses;  // shared cluster -> its active data entries
  for (const Finding& f : check.findings)
    if (f.code == "cluster-shared" && f.cluster) uses[*f.cluster];
  if (uses.empty()) {
    b.plan().skipped.push_back("no cluster is used by several referrers: nothing to rebuild");
    return Status::Ok();
  }
  // Every active L2 table once (shared ones too), in L1 order: who uses the shared clusters.
  std::vector<uint64_t> tables;
  for (uint64_t raw : check.layout->active_l1().entries) {
    const uint64_t t = raw & kOffsetMask;
    if (t && is_aligned(t, g.cluster_size) && inside_file(t, g.cluster_size, img.file_size()) &&
        !check.layout->l2_conflict(t) && std::find(tables.begin(), tables.end(), t) == tables.end())
      tables.push_back(t);
  }
  std::vector<uint8_t> table;
  for (uint64_t t : tables) {
    QCOW2_RETURN_IF_ERROR(img.read_cluster(t, table));
    for (uint64_t j = 0; j < g.l2_entries; ++j) {
      const L2Entry e = l2_entry_at(table, j, g);
      if (e.kind != L2Kind::kNormal && e.kind != L2Kind::kZeroAlloc) continue;
      auto it = uses.find(g.cluster_index(e.host_offset));
      if (it != uses.end()) it->second.push_back({t + j * g.l2_entry_bytes, e.raw});
    }
  }
  std::map<uint64_t, std::vector<Use>> ordered(uses.begin(), uses.end());  // a plan the same every time
  std::vector<uint8_t> data;
  uint64_t copies = 0;
  for (auto& [c, list] : ordered) {
    if (list.size() < 2) continue;  // one active user: the others are snapshots, a refcount repair's job
    const uint64_t off = c << g.cluster_bits;
    data.assign(g.cluster_size, 0);
    const uint64_t have = off < img.file_size() ? std::min<uint64_t>(g.cluster_size, img.file_size() - off) : 0;
    if (have) QCOW2_RETURN_IF_ERROR(img.file().read(off, std::span<uint8_t>(data.data(), have)));
    for (size_t k = 1; k < list.size(); ++k) {
      const uint64_t at = b.append(data, "reuse", fmt::format("a copy of cluster {} for the L2 entry at 0x{:x}", c,
                                                              list[k].entry_offset),
                                   Risk::kRisky);
      const uint64_t entry = (list[k].raw & ~kOffsetMask) | at | kEntryCopied;
      QCOW2_ASSIGN_OR_RETURN(const bool changed,
                             b.set_bits(list[k].entry_offset, 8, ~0ULL, entry, Role::kL2, "reuse",
                                        fmt::format("repointed from the shared cluster {} to its copy at 0x{:x}", c, at),
                                        Risk::kRisky));
      copies += changed;
    }
  }
  if (copies == 0) b.plan().skipped.push_back("the shared clusters have one active user each: -R error raises their refcounts");
  // Refcounts and COPIED as the copies leave them.
  RepairCommand after = cmd;
  after.kind = RepairKind::kReuse;
  return plan_check_repair(b, check, after);
}

Status plan_discard(PlanBuilder& b, const CheckResult& check, const RepairCommand&) {
  if (!check.counts || !check.layout) return Status::InvalidArgument("the image cannot be walked: nothing is known to be free");
  const Image& img = b.image();
  const Geometry& g = img.geometry();
  const Layout& layout = *check.layout;
  const RefCounter& counts = *check.counts;
  const uint64_t whole = img.file_size() >> g.cluster_bits;  // clusters wholly inside the file
  std::vector<uint8_t> block, data;
  uint64_t punched = 0;
  for (uint64_t i = 0; i < layout.reftable().size(); ++i) {
    if (!layout.block_ok(i)) continue;  // no refcount known: not known to be free
    QCOW2_RETURN_IF_ERROR(img.read_cluster(layout.reftable()[i] & ~kRefTableReservedMask, block));
    for (uint64_t j = 0; j < g.refblock_entries; ++j) {
      const uint64_t c = (i << g.refblock_bits) + j;
      if (c == 0 || c >= whole) continue;
      if (refcount_at(block, j, g.refcount_order) != 0 || (c < counts.clusters() && counts.get(c) != 0)) continue;
      const uint64_t off = c << g.cluster_bits;
      if (img.file().is_hole(off, g.cluster_size)) continue;
      data.resize(g.cluster_size);
      QCOW2_RETURN_IF_ERROR(img.file().read(off, data));
      if (std::all_of(data.begin(), data.end(), [](uint8_t x) { return x == 0; })) continue;
      QCOW2_RETURN_IF_ERROR(b.replace(off, std::vector<uint8_t>(g.cluster_size, 0), Role::kFree, "discard",
                                      fmt::format("cluster {}: nothing references it and its refcount is 0", c),
                                      Risk::kDestructive));
      b.plan().edits.back().punch = true;
      ++punched;
    }
  }
  if (punched == 0) b.plan().skipped.push_back("no unreferenced cluster holds bytes: nothing to discard");
  return Status::Ok();
}

}  // namespace qcow2
