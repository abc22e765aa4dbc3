#include "engine/check/cluster_roles.h"

#include "engine/check/layout.h"
#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"

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

// On-disk refcounts, one refcount block at a time (clusters are visited in order), from the
// blocks the layout accepted.
class DiskRefcounts {
 public:
  DiskRefcounts(const Image& img, const Layout& layout) : img_(img), layout_(layout), g_(img.geometry()) {}

  uint64_t get(uint64_t c) {
    const uint64_t i = c >> g_.refblock_bits;
    if (i != loaded_) load(i);
    return have_block_ ? refcount_at(block_, c & (g_.refblock_entries - 1), g_.refcount_order) : 0;
  }

 private:
  void load(uint64_t i) {
    loaded_ = i;
    have_block_ = layout_.block_ok(i) &&
                  img_.read_cluster(layout_.reftable()[i] & ~kRefTableReservedMask, block_).ok();
  }

  const Image& img_;
  const Layout& layout_;
  const Geometry& g_;
  std::vector<uint8_t> block_;
  uint64_t loaded_ = ~0ULL;
  bool have_block_ = false;
};

}  // namespace

Result<std::vector<RoleRun>> cluster_roles(const Image& img, const CheckResult& r) {
  if (!r.counts || !r.layout) return Status::InvalidArgument("the check could not walk the image");
  const Geometry& g = img.geometry();
  const uint64_t clusters = file_clusters(img.file_size(), g.cluster_bits);
  DiskRefcounts disk(img, *r.layout);
  std::vector<RoleRun> out;
  size_t m = 0;  // metadata ranges are sorted by first cluster
  for (uint64_t c = 0; c < clusters; ++c) {
    while (m < r.metadata.size() && r.metadata[m].first + r.metadata[m].count <= c) ++m;
    std::string_view role;
    if (m < r.metadata.size() && r.metadata[m].first <= c)
      role = role_slug(r.metadata[m].role);
    else if (r.counts->get(c) > 0)
      role = "data";
    else
      role = disk.get(c) > 0 ? "leaked" : "free";
    if (out.empty() || out.back().role != role)
      out.push_back({c, 1, role});
    else
      ++out.back().count;
  }
  return out;
}

}  // namespace qcow2
