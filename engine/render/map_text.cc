#include "engine/render/map_text.h"

#include <fmt/format.h>

#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/render/column_text.h"

namespace qcow2 {
namespace {

const char* role_slug(Role r) {
  switch (r) {
    case Role::kFree: return "free";
    case Role::kHeader: return "header";
    case Role::kL1: return "l1";
    case Role::kL2: return "l2";
    case Role::kRefTable: return "refcount-table";
    case Role::kRefBlock: return "refcount-block";
    case Role::kSnapshotTable: return "snapshot-table";
    case Role::kSnapshotL1: return "snapshot-l1";
    case Role::kBitmapDirectory: return "bitmap-directory";
    case Role::kBitmapTable: return "bitmap-table";
    case Role::kBitmapData: return "bitmap-data";
    case Role::kCryptoHeader: return "crypto-header";
    case Role::kData:
    case Role::kCompressed:
    case Role::kVmState: return "data";
  }
  return "?";
}

// On-disk refcounts, one refcount block at a time: the whole table would not fit for large
// images, and clusters are visited in order.
class DiskRefcounts {
 public:
  DiskRefcounts(const Image& img) : img_(img), g_(img.geometry()) {
    auto t = img.read_refcount_table();
    if (t.ok()) table_ = std::move(t).value();
  }

  uint64_t get(uint64_t c) {
    const uint64_t i = c >> g_.refblock_bits;
    if (i != loaded_) load(i);
    return have_block_ ? refcount_at(block_, c & (g_.refblock_entries - 1), g_.refcount_order) : 0;
  }

 private:
  void load(uint64_t i) {
    loaded_ = i;
    have_block_ = false;
    if (i >= table_.size()) return;
    const RefTableEntry e = decode_reftable_entry(table_[i], g_);
    if (!e.used() || e.unaligned) return;
    have_block_ = img_.read_cluster(e.block_offset, block_).ok();
  }

  const Image& img_;
  const Geometry& g_;
  std::vector<uint64_t> table_;
  std::vector<uint8_t> block_;
  uint64_t loaded_ = ~0ULL;
  bool have_block_ = false;
};

}  // namespace

void render_guest_map(const std::vector<GuestExtent>& extents, TextSink& out) {
  out.print("{:<18} {:<18} {:<11} {}\n", "# start", "length", "kind", "host_offset");
  for (const GuestExtent& x : extents)
    out.print("{:<18} {:<18} {:<11} {}\n", hex_value(x.guest_offset), hex_value(x.length),
              extent_kind_name(x.kind), x.has_host ? hex_value(x.host_offset) : "-");
}

void render_cluster_map(const Image& img, const CheckResult& r, TextSink& out) {
  if (!r.counts) {
    out.write(error_line(img.walkable()
                             ? std::string("the check could not walk the image, so no cluster is classified")
                             : "no cluster is classified: " + img.walk_status().message()));
    return;
  }
  const Geometry& g = img.geometry();
  const uint64_t clusters = (img.file_size() + g.cluster_size - 1) >> g.cluster_bits;
  DiskRefcounts disk(img);
  out.print("{:<10} {:<18} {:>10} {}\n", "# first", "host_offset", "count", "role");
  size_t m = 0;  // metadata ranges are sorted by first cluster
  uint64_t run_first = 0, run_count = 0;
  std::string_view run_role;
  auto flush = [&] {
    if (run_count)
      out.print("{:>10} {:<18} {:>10} {}\n", run_first, hex_value(run_first << g.cluster_bits),
                run_count, run_role);
  };
  for (uint64_t c = 0; c < clusters; ++c) {
    while (m < r.metadata.size() && r.metadata[m].first + r.metadata[m].count <= c) ++m;
    std::string_view role;
    if (m < r.metadata.size() && r.metadata[m].first <= c)
      role = role_slug(r.metadata[m].role);
    else if (r.counts->get(c) > 0)
      role = "data";
    else
      role = disk.get(c) > 0 ? "leaked" : "free";
    if (role != run_role) {
      flush();
      run_first = c;
      run_count = 0;
      run_role = role;
    }
    ++run_count;
  }
  flush();
}

}  // namespace qcow2
