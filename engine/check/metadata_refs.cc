#include "engine/check/metadata_refs.h"

#include <fmt/format.h>

#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

void emit(ReferenceSink& sink, Finding f) {
  if (sink.wants_findings()) sink.finding(std::move(f));
}

void reference_extent(ReferenceSink& sink, const Geometry& g, uint64_t offset, uint64_t bytes, uint64_t times,
                      const Referrer& r) {
  const ClusterSpan s = cluster_span(offset, bytes, g.cluster_bits);
  if (s.count) sink.reference(s.first, s.count, times, r);
}

void snapshot_table(const Image& img, ReferenceSink& sink) {
  const Header& h = img.header();
  const SnapshotTable& t = img.snapshots();
  if (h.nb_snapshots == 0) return;
  reference_extent(sink, img.geometry(), h.snapshots_offset, t.table_bytes, 1,
                   Referrer{Role::kSnapshotTable, kActive, 64});
  if (t.ok()) return;
  const std::string last_good = *t.bad_index == 0 ? "none"
                                                  : fmt::format("snapshot {} (id {})", *t.bad_index - 1,
                                                                escape_text(t.snapshots.back().id));
  Finding f = make_finding(
      "snapshot-table", Category::kSnapshot, "snapshot table",
      fmt::format("entry {} is damaged: {}; last good entry: {}", *t.bad_index, t.error, last_good),
      fmt::format("drop the damaged entries: set nb_snapshots (header offset 60) to {}, then free what only "
                  "they referenced",
                  *t.bad_index));
  // The bytes concerned: the damaged entry, which starts where the good ones end.
  f.file_offset = h.snapshots_offset + t.table_bytes;
  f.table_offset = h.snapshots_offset;
  f.index = *t.bad_index;
  emit(sink, std::move(f));
}

void refcount_structures(const Image& img, const Layout& layout, ReferenceSink& sink, CheckStats* stats) {
  const Header& h = img.header();
  const Geometry& g = img.geometry();
  reference_extent(sink, g, h.refcount_table_offset, uint64_t{h.refcount_table_clusters} << g.cluster_bits, 1,
                   Referrer{Role::kRefTable, kActive, 48});
  const std::vector<uint64_t>& table = layout.reftable();
  EntryStats* st = stats ? &stats->refcount_table : nullptr;
  for (uint64_t i = 0; i < table.size(); ++i) {
    const RefTableEntry e = decode_reftable_entry(table[i], g);
    if (st) {
      if (!e.used()) ++st->unused;
      else if (e.reserved) ++st->reserved;
      else if (e.unaligned) ++st->unaligned;
      else if (!layout.block_ok(i)) ++st->invalid;
      else ++st->used;
      if (!e.used() && e.reserved) ++st->reserved;
    }
    if (layout.block_ok(i))
      sink.reference(g.cluster_index(e.block_offset), 1, 1,
                     Referrer{Role::kRefBlock, kActive, h.refcount_table_offset + i * 8, h.refcount_table_offset, i});
  }
}

}  // namespace

void reference_header_metadata(const Image& img, const Layout& layout, ReferenceSink& sink, CheckStats* stats) {
  const Geometry& g = img.geometry();
  const Header& h = img.header();
  sink.reference(0, 1, 1, Referrer{Role::kHeader});
  reference_extent(sink, g, h.l1_table_offset, uint64_t{h.l1_size} * 8, 1, Referrer{Role::kL1, kActive, 40});
  if (const auto& c = img.extensions().crypto) {
    if (!img.crypto_problem().empty())
      emit(sink, make_finding("crypto-header-range", Category::kCorrupt, "header extensions", img.crypto_problem(),
                              "restore the extension's offset and length: the LUKS header may still be in the "
                              "file (keep any leaked clusters that hold it)"));
    else
      reference_extent(sink, g, c->offset, c->length, 1, Referrer{Role::kCryptoHeader});
  }
  snapshot_table(img, sink);
  for (const L1Table& t : layout.l1_tables())
    if (t.snapshot != kActive)
      reference_extent(sink, g, t.offset, t.entries.size() * 8, t.times,
                       Referrer{Role::kSnapshotL1, t.snapshot,
                                img.snapshots().snapshots[static_cast<size_t>(t.snapshot)].entry_offset});
  refcount_structures(img, layout, sink, stats);
  if (sink.wants_findings()) {
    for (const Finding& f : layout.findings()) sink.finding(f);
    for (const auto& [code, n] : layout.not_listed()) {
      Category cat = Category::kCorrupt;
      for (const Finding& f : layout.findings())
        if (f.code == code) {
          cat = f.category;
          break;
        }
      sink.findings_not_listed(code, cat, n);
    }
  }
}

void reference_bitmaps(const Image& img, const Layout& layout, ReferenceSink& sink) {
  const auto& ext = img.extensions().bitmaps;
  if (!ext) return;
  const Geometry& g = img.geometry();
  const BitmapDirectory& dir = img.bitmaps();
  if (!dir.ok()) {
    Finding f = make_finding(dir.cross_linked ? "bitmap-directory-cross-link" : "bitmap-directory",
                             Category::kCorrupt, "bitmap directory", dir.error,
                             "remove the bitmaps extension (the guest data is not affected)");
    f.file_offset = ext->directory_offset;
    emit(sink, std::move(f));
  }
  if (dir.bitmaps.empty() && !dir.ok()) return;
  reference_extent(sink, g, ext->directory_offset, ext->directory_size, 1, Referrer{Role::kBitmapDirectory});
  for (const std::string& p : dir.problems)
    emit(sink, make_finding("bitmap-entry", Category::kCorrupt, "bitmap directory", p,
                            "remove that bitmap (qemu-img bitmap --remove)"));
  for (const BitmapEntry& b : dir.bitmaps) {
    if (!(b.flags & kBitmapInUse)) continue;
    Finding f = make_finding("bitmap-in-use", Category::kInfo, "bitmap directory",
                             fmt::format("bitmap '{}' has IN_USE set: it was not saved cleanly and its contents "
                                         "cannot be trusted (incremental backups from it are unsafe)",
                                         escape_text(b.name)),
                             fmt::format("qemu-img bitmap --remove -- IMAGE {}", shell_quote(b.name)));
    f.severity = FindingSeverity::kWarning;
    f.at_field(b.entry_offset + 12, 4, b.flags, kBitmapInUse);
    emit(sink, std::move(f));
  }
  for (const BitmapTable& t : layout.bitmap_tables()) {
    const BitmapEntry& b = dir.bitmaps[t.first_bitmap];
    const std::string table = fmt::format("bitmap '{}' table", escape_text(b.name));
    reference_extent(sink, g, t.offset, t.entries.size() * 8, t.times,
                     Referrer{Role::kBitmapTable, kActive, b.entry_offset});
    for (uint64_t i = 0; i < t.entries.size(); ++i) {
      const BitmapTableEntry e = decode_bitmap_table_entry(t.entries[i]);
      const uint64_t at = t.offset + i * 8;
      std::string problem;
      if (e.reserved)
        problem = fmt::format("entry 0x{:016x} has reserved bits set", e.raw);
      else if (e.offset && (!is_aligned(e.offset, g.cluster_size) || !inside_file(e.offset, g.cluster_size, img.file_size())))
        problem = fmt::format("data offset 0x{:x} is unaligned or past the end of the file", e.offset);
      else if (e.offset && e.all_ones)
        problem = "bit 0 is set on an entry with a data offset";
      if (!problem.empty()) {
        Finding f = make_finding("bitmap-table-entry", Category::kCorrupt, table, problem,
                                 fmt::format("qemu-img bitmap --remove -- IMAGE {}", shell_quote(b.name)));
        f.table_offset = t.offset;
        f.at_field(at, 8, e.raw);
        f.index = i;
        emit(sink, std::move(f));
        continue;
      }
      if (e.offset)
        sink.reference(g.cluster_index(e.offset), 1, t.times, Referrer{Role::kBitmapData, kActive, at, t.offset, i});
    }
  }
}

}  // namespace qcow2
