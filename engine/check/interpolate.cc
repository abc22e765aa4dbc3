#include "engine/check/interpolate.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "engine/format/l2_entry.h"

namespace qcow2 {
namespace {

bool is_damage(const std::string& code) {
  return code == "l2-unaligned" || code == "l2-past-eof" || code == "l2-reserved-bits";
}

}  // namespace

void interpolate_damaged_l2(const Image& img, std::vector<Finding>& findings) {
  const Geometry& g = img.geometry();
  std::map<uint64_t, std::set<uint64_t>> bad;  // L2 table offset -> damaged indexes
  for (const Finding& f : findings)
    if (is_damage(f.code) && f.file_offset && f.index)
      bad[*f.file_offset - *f.index * g.l2_entry_bytes].insert(*f.index);

  std::vector<uint8_t> table;
  std::map<uint64_t, uint64_t> suggestion;  // entry file offset -> value
  for (const auto& entry : bad) {
    const uint64_t offset = entry.first;
    const std::set<uint64_t>& indexes = entry.second;  // a named reference: clang 14 cannot capture bindings
    if (!img.read_cluster(offset, table).ok()) continue;
    auto good = [&](uint64_t i, L2Entry& out) {
      if (indexes.count(i)) return false;
      out = l2_entry_at(table, i, g);
      return out.kind == L2Kind::kNormal && !out.unaligned && !out.reserved;
    };
    for (auto it = indexes.begin(); it != indexes.end();) {
      const uint64_t a = *it;
      uint64_t b = a;
      while (++it != indexes.end() && *it == b + 1) ++b;
      L2Entry before, after;
      if (a == 0 || b + 1 >= g.l2_entries || !good(a - 1, before) || !good(b + 1, after)) continue;
      if (after.host_offset != before.host_offset + (b - a + 2) * g.cluster_size) continue;
      const uint64_t flags = (before.raw & after.raw) & kEntryCopied;
      for (uint64_t k = a; k <= b; ++k)
        suggestion[offset + k * g.l2_entry_bytes] = flags | (before.host_offset + (k - a + 1) * g.cluster_size);
    }
  }
  for (Finding& f : findings) {
    if (!is_damage(f.code) || !f.file_offset) continue;
    auto it = suggestion.find(*f.file_offset);
    if (it == suggestion.end()) continue;
    f.suggested_value = it->second;
    f.fix = fmt::format("the neighbours are sequential: this entry most likely held 0x{:016x}; write that "
                        "8-byte value at file offset 0x{:x}",
                        it->second, *f.file_offset);
  }
}

}  // namespace qcow2
