#include "engine/check/metadata_refs.h"

#include <fmt/format.h>

#include "engine/format/l1_entry.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

constexpr uint64_t kMaxL1Entries = (32ULL << 20) / 8;

uint64_t clusters_for(uint64_t offset, uint64_t bytes, const Geometry& g) {
  if (bytes == 0) return 0;
  return ((offset + bytes - 1) >> g.cluster_bits) - (offset >> g.cluster_bits) + 1;
}

bool inside_file(const Image& img, uint64_t offset, uint64_t bytes) {
  return offset <= img.file_size() && bytes <= img.file_size() - offset;
}

void emit(ReferenceSink& sink, Finding f) {
  if (sink.wants_findings()) sink.finding(std::move(f));
}

}  // namespace

void reference_header_metadata(const Image& img, ReferenceSink& sink) {
  const Geometry& g = img.geometry();
  sink.reference(0, 1, 1, Referrer{Role::kHeader});
  const Header& h = img.header();
  sink.reference(g.cluster_index(h.l1_table_offset),
                 clusters_for(h.l1_table_offset, uint64_t{h.l1_size} * 8, g), 1,
                 Referrer{Role::kL1, kActive, 40});
  if (const auto& c = img.extensions().crypto) {
    if (!is_aligned(c->offset, g.cluster_size) || !inside_file(img, c->offset, c->length)) {
      Finding f = make_finding("crypto-header-range", Category::kCorrupt, "header extensions",
                               fmt::format("encryption header at 0x{:x} ({} bytes) is unaligned or "
                                           "outside the file", c->offset, c->length),
                               "the LUKS header is lost; restore it from a backup");
      emit(sink, std::move(f));
    } else {
      sink.reference(g.cluster_index(c->offset), clusters_for(c->offset, c->length, g), 1,
                     Referrer{Role::kCryptoHeader});
    }
  }
}

std::vector<SnapshotL1> reference_snapshots(const Image& img, ReferenceSink& sink, CheckStats* stats) {
  std::vector<SnapshotL1> out;
  const Header& h = img.header();
  const Geometry& g = img.geometry();
  const SnapshotTable& t = img.snapshots();
  if (h.nb_snapshots == 0) return out;

  if (t.table_bytes > 0)
    sink.reference(g.cluster_index(h.snapshots_offset), clusters_for(h.snapshots_offset, t.table_bytes, g),
                   1, Referrer{Role::kSnapshotTable, kActive, 64});
  if (!t.ok()) {
    const std::string last_good =
        *t.bad_index == 0 ? "none" : fmt::format("snapshot {} (id {})", *t.bad_index - 1,
                                                 t.snapshots.back().id);
    Finding f = make_finding(
        "snapshot-table", Category::kSnapshot, "snapshot table",
        fmt::format("entry {} is damaged: {}; last good entry: {}", *t.bad_index, t.error, last_good),
        fmt::format("drop the damaged entries: set nb_snapshots (header offset 60) to {}",
                    *t.bad_index));
    f.file_offset = h.snapshots_offset;
    f.index = *t.bad_index;
    emit(sink, std::move(f));
  }

  for (const Snapshot& s : t.snapshots) {
    const std::string name = fmt::format("snapshot {} L1", s.id);
    std::string problem;
    if (s.l1_size > kMaxL1Entries)
      problem = fmt::format("l1_size {} is over the limit of {} entries", s.l1_size, kMaxL1Entries);
    else if (s.l1_table_offset == 0 || !is_aligned(s.l1_table_offset, g.cluster_size))
      problem = fmt::format("L1 table offset 0x{:x} is not cluster aligned", s.l1_table_offset);
    else if (!inside_file(img, s.l1_table_offset, uint64_t{s.l1_size} * 8))
      problem = fmt::format("L1 table 0x{:x} ({} entries) lies past the end of the file",
                            s.l1_table_offset, s.l1_size);
    if (!problem.empty()) {
      Finding f = make_finding("snapshot-l1", Category::kSnapshot, "snapshot table",
                               fmt::format("snapshot {} (id {}, '{}'): {}", s.index, s.id, s.name, problem),
                               fmt::format("delete snapshot {} from the table", s.id));
      f.file_offset = s.entry_offset;
      f.index = s.index;
      emit(sink, std::move(f));
      continue;
    }
    auto l1 = img.read_snapshot_l1(s);
    if (!l1.ok()) continue;  // the checks above make this unreachable
    sink.reference(g.cluster_index(s.l1_table_offset), clusters_for(s.l1_table_offset, uint64_t{s.l1_size} * 8, g),
                   1, Referrer{Role::kSnapshotL1, static_cast<int32_t>(s.index), s.entry_offset});
    out.push_back({static_cast<int32_t>(s.index), s.l1_table_offset, std::move(*l1),
                   s.disk_size.value_or(h.size), name});
  }
  (void)stats;
  return out;
}

Status reference_refcount_structures(const Image& img, ReferenceSink& sink, CheckStats* stats) {
  const Header& h = img.header();
  const Geometry& g = img.geometry();
  sink.reference(g.cluster_index(h.refcount_table_offset), h.refcount_table_clusters, 1,
                 Referrer{Role::kRefTable, kActive, 48});
  QCOW2_ASSIGN_OR_RETURN(std::vector<uint64_t> table, img.read_refcount_table());
  EntryStats* st = stats ? &stats->refcount_table : nullptr;
  for (uint64_t i = 0; i < table.size(); ++i) {
    const RefTableEntry e = decode_reftable_entry(table[i], g);
    const uint64_t at = h.refcount_table_offset + i * 8;
    if (!e.used()) {
      if (st) ++st->unused;
      if (e.reserved && st) ++st->reserved;
      continue;
    }
    const char* code = nullptr;
    std::string msg;
    if (e.reserved) {
      code = "reftable-reserved-bits";
      msg = fmt::format("refcount table entry 0x{:016x} has reserved bits 0x{:x} set", e.raw, e.reserved);
      if (st) ++st->reserved;
    } else if (e.unaligned) {
      code = "reftable-unaligned";
      msg = fmt::format("refcount block offset 0x{:x} is not cluster aligned", e.block_offset);
      if (st) ++st->unaligned;
    } else if (!inside_file(img, e.block_offset, g.cluster_size)) {
      code = "reftable-past-eof";
      msg = fmt::format("refcount block offset 0x{:x} lies past the end of the file", e.block_offset);
      if (st) ++st->invalid;
    }
    if (code) {
      Finding f = make_finding(code, Category::kCorrupt, "refcount table", std::move(msg),
                               "rebuild this refcount block from the references");
      f.file_offset = at;
      f.index = i;
      emit(sink, std::move(f));
      continue;
    }
    if (st) ++st->used;
    sink.reference(g.cluster_index(e.block_offset), 1, 1,
                   Referrer{Role::kRefBlock, kActive, at, h.refcount_table_offset, i});
  }
  return Status::Ok();
}

void reference_bitmaps(const Image& img, ReferenceSink& sink) {
  const auto& ext = img.extensions().bitmaps;
  if (!ext) return;
  const Geometry& g = img.geometry();
  const BitmapDirectory& dir = img.bitmaps();
  if (!dir.ok()) {
    Finding f = make_finding("bitmap-directory", Category::kCorrupt, "bitmap directory", dir.error,
                             "remove the bitmaps extension (the guest data is not affected)");
    f.file_offset = ext->directory_offset;
    emit(sink, std::move(f));
  }
  if (dir.bitmaps.empty() && !dir.ok()) return;
  sink.reference(g.cluster_index(ext->directory_offset), clusters_for(ext->directory_offset, ext->directory_size, g),
                 1, Referrer{Role::kBitmapDirectory});
  for (const std::string& p : dir.problems)
    emit(sink, make_finding("bitmap-entry", Category::kCorrupt, "bitmap directory", p,
                            "remove that bitmap (qemu-img bitmap --remove)"));
  for (const BitmapEntry& b : dir.bitmaps) {
    const std::string table = fmt::format("bitmap '{}' table", b.name);
    if (b.flags & kBitmapInUse) {
      Finding f = make_finding("bitmap-in-use", Category::kInfo, "bitmap directory",
                               fmt::format("bitmap '{}' has IN_USE set: it was not saved cleanly and "
                                           "its contents cannot be trusted", b.name),
                               fmt::format("qemu-img bitmap --remove IMAGE {}", b.name));
      f.file_offset = b.entry_offset;
      emit(sink, std::move(f));
    }
    const uint64_t bytes = uint64_t{b.table_size} * 8;
    if (!is_aligned(b.table_offset, g.cluster_size) || b.table_offset == 0 ||
        !inside_file(img, b.table_offset, bytes) || bytes > (512ULL << 20)) {
      Finding f = make_finding("bitmap-table-range", Category::kCorrupt, table,
                               fmt::format("bitmap table at 0x{:x} ({} entries) is unaligned or outside "
                                           "the file", b.table_offset, b.table_size),
                               fmt::format("qemu-img bitmap --remove IMAGE {}", b.name));
      f.file_offset = b.entry_offset;
      emit(sink, std::move(f));
      continue;
    }
    sink.reference(g.cluster_index(b.table_offset), clusters_for(b.table_offset, bytes, g), 1,
                   Referrer{Role::kBitmapTable, kActive, b.entry_offset});
    auto entries = img.read_u64_table(b.table_offset, b.table_size, "bitmap table", 512ULL << 20);
    if (!entries.ok()) continue;
    for (uint64_t i = 0; i < entries->size(); ++i) {
      const BitmapTableEntry e = decode_bitmap_table_entry((*entries)[i]);
      const uint64_t at = b.table_offset + i * 8;
      std::string problem;
      if (e.reserved)
        problem = fmt::format("entry 0x{:016x} has reserved bits set", e.raw);
      else if (e.offset && (!is_aligned(e.offset, g.cluster_size) || !inside_file(img, e.offset, g.cluster_size)))
        problem = fmt::format("data offset 0x{:x} is unaligned or past the end of the file", e.offset);
      else if (e.offset && e.all_ones)
        problem = "bit 0 is set on an entry with a data offset";
      if (!problem.empty()) {
        Finding f = make_finding("bitmap-table-entry", Category::kCorrupt, table, problem,
                                 fmt::format("qemu-img bitmap --remove IMAGE {}", b.name));
        f.file_offset = at;
        f.index = i;
        emit(sink, std::move(f));
        continue;
      }
      if (e.offset)
        sink.reference(g.cluster_index(e.offset), 1, 1,
                       Referrer{Role::kBitmapData, kActive, at, b.table_offset, i});
    }
  }
}

}  // namespace qcow2
