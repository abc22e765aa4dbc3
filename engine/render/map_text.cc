#include "engine/render/map_text.h"

#include <fmt/format.h>

#include "engine/render/column_text.h"

namespace qcow2 {
namespace {

}  // namespace

void render_guest_map(const std::vector<GuestExtent>& extents, TextSink& out) {
  out.print("{:<18} {:<18} {:<11} {}\n", "# start", "length", "kind", "host_offset");
  for (const GuestExtent& x : extents)
    out.print("{:<18} {:<18} {:<11} {}\n", hex_value(x.guest_offset), hex_value(x.length),
              extent_kind_name(x.kind), x.has_host ? hex_value(x.host_offset) : "-");
}

void render_cluster_map(const std::vector<RoleRun>& runs, uint32_t cluster_bits, TextSink& out) {
  out.print("{:<10} {:<18} {:>10} {}\n", "# first", "host_offset", "count", "role");
  for (const RoleRun& run : runs)
    out.print("{:>10} {:<18} {:>10} {}\n", run.first, hex_value(run.first << cluster_bits), run.count, run.role);
}

}  // namespace qcow2
