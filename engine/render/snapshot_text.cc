#include "engine/render/snapshot_text.h"

#include <fmt/format.h>

#include <ctime>

#include "engine/render/text_util.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

std::string optional_u64(const std::optional<uint64_t>& v) {
  return v ? fmt::to_string(*v) : std::string("none");
}

void one_snapshot(const Snapshot& s, const Image& img, const Layout* layout, const Style& st, TextSink& out) {
  out.print("snapshot[{:4}]: id {}, name {}\n", s.index, escape_text(s.id), escape_text(s.name));
  const std::string bad =
      layout ? layout->snapshot_l1(s.index).problem : snapshot_l1_problem(s, img.geometry(), img.file_size());
  out.print("    l1_table_offset: 0x{:x}, l1_size: {}", s.l1_table_offset, s.l1_size);
  if (!bad.empty()) out.print(" {}[{}]{}", st.error(), bad, st.reset());
  out.print("\n    date: {}, vm_clock: {}\n", snapshot_date(s.date_sec),
            snapshot_vm_clock(s.vm_clock_nsec));
  out.print("    vm_state_size: {}, disk_size: {}, icount: {}, extra_data_size: {}\n",
            s.vm_state_bytes(), optional_u64(s.disk_size), optional_u64(s.icount),
            s.extra_data_size);
}

std::string bitmap_flags(uint32_t flags) {
  std::string names;
  auto add = [&names](const char* n) { names += names.empty() ? n : std::string(", ") + n; };
  if (flags & kBitmapInUse) add("in-use");
  if (flags & kBitmapAuto) add("auto");
  if (flags & kBitmapExtraDataCompatible) add("extra-data-compatible");
  const uint32_t unknown = flags & ~(kBitmapInUse | kBitmapAuto | kBitmapExtraDataCompatible);
  if (unknown) add(fmt::format("reserved 0x{:x}", unknown).c_str());
  return fmt::format("0x{:x}{}", flags, names.empty() ? "" : " (" + names + ")");
}

}  // namespace

std::string snapshot_date(uint32_t sec) {
  const std::time_t t = sec;
  std::tm tm {};
  if (!gmtime_r(&t, &tm)) return fmt::to_string(sec);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string snapshot_vm_clock(uint64_t nsec) {
  const uint64_t ms = nsec / 1000000;
  return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

void render_snapshots(const Image& img, const Style& st, TextSink& out, const Layout* layout) {
  const Header& h = img.header();
  if (h.nb_snapshots == 0) {
    out.print("{}Snapshots: 0{}\n", st.title(), st.reset());
    return;
  }
  if (!img.walkable()) {
    out.print("{}Snapshots: {} (not read: the header is too damaged to trust){}\n", st.title(),
              h.nb_snapshots, st.reset());
    return;
  }
  const SnapshotTable& t = img.snapshots();
  out.print("{}Snapshots: {} of nb_snapshots {} [offset: 0x{:x}, {} bytes]{}\n", st.title(),
            t.snapshots.size(), h.nb_snapshots, h.snapshots_offset, t.table_bytes, st.reset());
  for (const Snapshot& s : t.snapshots) one_snapshot(s, img, layout, st, out);
  if (t.ok()) return;
  std::string last_good = "none";
  if (!t.snapshots.empty()) {
    const Snapshot& g = t.snapshots.back();
    last_good = fmt::format("snapshot[{}] id {} name {}", g.index, escape_text(g.id), escape_text(g.name));
  }
  out.print("{}snapshot table damaged: first bad entry snapshot[{}]: {}; last good entry: {}{}\n",
            st.error(), *t.bad_index, t.error, last_good, st.reset());
}

void render_bitmaps(const Image& img, const Style& st, TextSink& out) {
  const auto& ext = img.extensions().bitmaps;
  if (!ext) return;
  if (!img.walkable()) {
    out.print("{}Bitmaps: {} (not read: the header is too damaged to trust){}\n", st.title(),
              ext->nb_bitmaps, st.reset());
    return;
  }
  const BitmapDirectory& d = img.bitmaps();
  out.print("{}Bitmaps: {} of nb_bitmaps {} [directory offset: 0x{:x}, size: {}]{}\n", st.title(),
            d.bitmaps.size(), ext->nb_bitmaps, ext->directory_offset, ext->directory_size,
            st.reset());
  for (size_t i = 0; i < d.bitmaps.size(); ++i) {
    const BitmapEntry& b = d.bitmaps[i];
    const std::string gran = b.granularity_bits < 64 ? fmt::to_string(1ULL << b.granularity_bits)
                                                     : fmt::format("2^{}", b.granularity_bits);
    out.print("bitmap[{}]: name {}, granularity: {}, flags: {}, type: {}, table offset: 0x{:x}, "
              "table size: {}\n",
              i, escape_text(b.name), gran, bitmap_flags(b.flags), b.type, b.table_offset, b.table_size);
  }
  for (const std::string& p : d.problems) out.print("{}bitmap problem: {}{}\n", st.error(), p, st.reset());
  if (!d.ok()) out.print("{}bitmap directory error: {}{}\n", st.error(), d.error, st.reset());
}

}  // namespace qcow2
