#include "cli/snapshot_select.h"

#include <fmt/format.h>

#include "engine/render/dump_text.h"
#include "engine/render/text_util.h"

namespace qcow2::cli {
namespace {

L1Target active(const Image& img) {
  return {active_section_title(), img.header().l1_table_offset, img.header().l1_size, nullptr};
}

L1Target of(const Snapshot& s) { return {snapshot_section_title(s), s.l1_table_offset, s.l1_size, &s}; }

const Snapshot* find(const std::vector<Snapshot>& all, const std::string& key) {
  for (const Snapshot& s : all)
    if (s.id == key) return &s;
  for (const Snapshot& s : all)
    if (s.name == key) return &s;
  return nullptr;
}

}  // namespace

Result<std::vector<L1Target>> select_l1_tables(const Image& img, const std::string& selector) {
  const auto& snaps = img.snapshots().snapshots;
  std::vector<L1Target> out;
  if (selector == "active" || selector == "all") out.push_back(active(img));
  if (selector == "inactive" || selector == "all") {
    for (const Snapshot& s : snaps) out.push_back(of(s));
  }
  if (!out.empty() || selector == "inactive") return out;
  const Snapshot* s = find(snaps, selector);
  if (!s) return Status::InvalidArgument(fmt::format("no snapshot with id or name '{}'", escape_text(selector)));
  out.push_back(of(*s));
  return out;
}

}  // namespace qcow2::cli
