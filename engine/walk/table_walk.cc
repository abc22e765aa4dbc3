#include "engine/walk/table_walk.h"

#include <fmt/format.h>

#include <vector>

#include "engine/format/extent.h"

namespace qcow2 {

std::string l2_pointer_problem(const L1Entry& e, const Geometry& g, uint64_t file_size, const ClaimMap& claims) {
  if (e.unaligned) return fmt::format("L2 offset 0x{:x} is not aligned to the cluster size", e.l2_offset);
  if (!inside_file(e.l2_offset, g.cluster_size, file_size))
    return fmt::format("L2 offset 0x{:x} lies past the end of the file (0x{:x})", e.l2_offset, file_size);
  if (const Claim* owner = claims.overlapping(e.l2_offset, g.cluster_size))
    return fmt::format("L2 offset 0x{:x} lies in {}: it is not read as an L2 table", e.l2_offset,
                       describe_claim(*owner));
  return {};
}

void ShownTables::count(std::span<const uint64_t> l1) {
  for (uint64_t raw : l1)
    if (const uint64_t off = raw & kOffsetMask) ++pointers[off];
}

Status walk_tables(const Image& img, std::string_view title, uint64_t l1_offset, std::span<const uint64_t> l1,
                   TableVisitor& visitor, const ClaimMap* claims, ShownTables* shown) {
  const Geometry& g = img.geometry();
  const ClaimMap& owners = claims ? *claims : img.claims();
  ShownTables local;
  ShownTables& seen = shown ? *shown : local;
  std::vector<uint8_t> table;
  for (uint64_t i = 0; i < l1.size(); ++i) {
    L1Visit v;
    v.l1_index = i;
    v.entry_offset = l1_offset + i * 8;
    v.entry = decode_l1_entry(l1[i], g);
    if (v.entry.used()) v.skipped = l2_pointer_problem(v.entry, g, img.file_size(), owners);
    if (v.entry.used() && v.skipped.empty()) {
      auto [it, fresh] = seen.first.try_emplace(v.entry.l2_offset, FirstShown{std::string(title), i});
      if (!fresh) v.same_as = it->second;
      if (auto p = seen.pointers.find(v.entry.l2_offset); fresh && p != seen.pointers.end()) v.pointers = p->second;
    }
    visitor.on_l1(v);
    if (!v.entry.used() || !v.skipped.empty() || v.same_as) continue;

    QCOW2_RETURN_IF_ERROR(img.read_cluster(v.entry.l2_offset, table));
    L2Visit e;
    e.l1_index = i;
    e.table_offset = v.entry.l2_offset;
    for (uint64_t j = 0; j < g.l2_entries; ++j) {
      e.l2_index = j;
      e.entry_offset = e.table_offset + j * g.l2_entry_bytes;
      e.guest_offset = g.guest_offset(i, j);
      e.entry = l2_entry_at(table, j, g);
      visitor.on_l2(e);
    }
    visitor.on_l2_done(v);
  }
  return Status::Ok();
}

}  // namespace qcow2
