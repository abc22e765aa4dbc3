#include "engine/walk/guest_map.h"

#include <algorithm>

#include "engine/walk/table_walk.h"

namespace qcow2 {
namespace {

class MapBuilder : public TableVisitor {
 public:
  MapBuilder(const Geometry& g, uint64_t disk_size) : g_(g), disk_size_(disk_size) {}

  void on_l1(const L1Visit& v) override {
    if (!v.same_as) return;
    const uint64_t guest = v.l1_index * g_.guest_bytes_per_l1_entry;
    if (guest >= disk_size_) return;
    push(mapped_, {guest, std::min(g_.guest_bytes_per_l1_entry, disk_size_ - guest), ExtentKind::kSameL2,
                   v.same_as->l1_index * g_.guest_bytes_per_l1_entry, true});
  }

  void on_l2(const L2Visit& v) override {
    const L2Entry& e = v.entry;
    if (v.guest_offset >= disk_size_) return;  // VM state lives past the disk: not guest data
    if (e.kind == L2Kind::kCompressed) {
      add(v.guest_offset, g_.cluster_size, ExtentKind::kCompressed, e.comp_offset, true);
      return;
    }
    if (!g_.extended_l2) {
      switch (e.kind) {
        case L2Kind::kNormal: add(v.guest_offset, g_.cluster_size, ExtentKind::kData, e.host_offset, true); break;
        case L2Kind::kZeroAlloc: add(v.guest_offset, g_.cluster_size, ExtentKind::kZero, e.host_offset, true); break;
        case L2Kind::kZeroPlain: add(v.guest_offset, g_.cluster_size, ExtentKind::kZero, 0, false); break;
        default: break;
      }
      return;
    }
    // Extended L2: each of the 32 subclusters has its own state.
    const bool has_cluster = e.kind == L2Kind::kNormal;
    for (uint32_t s = 0; s < 32; ++s) {
      const uint64_t guest = v.guest_offset + s * g_.subcluster_size;
      if (e.alloc_mask() & (1U << s))
        add(guest, g_.subcluster_size, ExtentKind::kData, e.host_offset + s * g_.subcluster_size, true);
      else if (e.zero_mask() & (1U << s))
        // Inside an allocated cluster the zero subcluster keeps its host space, as QEMU's
        // ZERO_ALLOC subclusters do (qemu-img map reports their offset).
        add(guest, g_.subcluster_size, ExtentKind::kZero,
            has_cluster ? e.host_offset + s * g_.subcluster_size : 0, has_cluster);
    }
  }

  std::vector<GuestExtent> finish() {
    // Fill the gaps with unallocated extents so the map covers the whole disk.
    std::vector<GuestExtent> out;
    uint64_t pos = 0;
    for (const auto& x : mapped_) {
      if (x.guest_offset > pos) push(out, {pos, x.guest_offset - pos, ExtentKind::kUnallocated, 0, false});
      push(out, x);
      pos = x.guest_offset + x.length;
    }
    if (pos < disk_size_) push(out, {pos, disk_size_ - pos, ExtentKind::kUnallocated, 0, false});
    return out;
  }

 private:
  void add(uint64_t guest, uint64_t len, ExtentKind kind, uint64_t host, bool has_host) {
    len = std::min(len, disk_size_ - guest);
    push(mapped_, {guest, len, kind, host, has_host});
  }

  static void push(std::vector<GuestExtent>& v, const GuestExtent& x) {
    if (!v.empty()) {
      GuestExtent& last = v.back();
      const bool contiguous = last.guest_offset + last.length == x.guest_offset;
      const bool same_host = last.has_host == x.has_host &&
                             (!x.has_host || last.host_offset + last.length == x.host_offset);
      if (contiguous && last.kind == x.kind && x.kind != ExtentKind::kCompressed && x.kind != ExtentKind::kSameL2 &&
          same_host) {
        last.length += x.length;
        return;
      }
    }
    v.push_back(x);
  }

  const Geometry& g_;
  uint64_t disk_size_;
  std::vector<GuestExtent> mapped_;
};

}  // namespace

const char* extent_kind_name(ExtentKind k) {
  switch (k) {
    case ExtentKind::kUnallocated: return "unallocated";
    case ExtentKind::kData: return "data";
    case ExtentKind::kZero: return "zero";
    case ExtentKind::kCompressed: return "compressed";
    case ExtentKind::kSameL2: return "same-l2";
  }
  return "?";
}

Result<std::vector<GuestExtent>> guest_map(const Image& img, uint64_t l1_offset, std::span<const uint64_t> l1,
                                           const ClaimMap* claims) {
  MapBuilder builder(img.geometry(), img.header().size);
  QCOW2_RETURN_IF_ERROR(walk_tables(img, "active", l1_offset, l1, builder, claims));
  return builder.finish();
}

}  // namespace qcow2
