// Damage recipes: each makes a small image with QEMU's tools and damages one structure with
// poke/fill/truncate, as a real fault (or a buggy writer) would. The per-class tests assert
// what the checker says about each; the never-writes suite runs all of them again and only
// asserts that checking leaves the bytes alone.
//
// Unless a recipe says otherwise, images have 64 KiB clusters and 16-bit refcounts, and
// qemu-img create lays them out as: header (cluster 0), refcount table (1), refcount block
// (2), L1 (3), then the first L2 table and the data clusters in write order. The recipes do
// not rely on that: they read every offset from the header and the tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/format/l2_entry.h"
#include "tests/check/check_helpers.h"

namespace qcow2::test::damage {

inline constexpr uint64_t kCluster = 64 * 1024;
inline constexpr uint64_t kFarAway = 1ULL << 30;  // 1 GiB: past the end of every small image

// A damaged image and what the recipe knew before damaging it.
struct Damaged {
  std::string path;  // "" when making it failed (the test has already failed)
  uint64_t at = 0;   // file offset of the damaged bytes
  uint64_t cluster = 0;         // the host cluster concerned, where there is one
  std::vector<uint64_t> before;  // values read before damaging (per recipe, see there)
};

// A 64 MiB image with two data clusters written (guest 0 and 64k).
inline std::string small_image(const TempDir& dir, const std::vector<std::string>& options = {},
                               const std::vector<std::string>& io = {"write -P 0x11 0 64k",
                                                                     "write -P 0x12 64k 64k"},
                               const std::string& name = "a.qcow2") {
  const std::string path = dir.file(name);
  if (!make_image(path, "64M", options)) return "";
  if (!io.empty() && !qemu_io(path, io)) return "";
  return path;
}

inline uint64_t file_size(const std::string& path) { return std::filesystem::file_size(path); }

// The host offset an active L2 entry (standard or extended) maps.
inline uint64_t data_offset(const Layout& l, uint64_t index) {
  return peek(l.path(), l.l2_entry(index), 8) & kOffsetMask;
}

// --- refcounts and COPIED ---------------------------------------------------------------

// The refcount of guest cluster 0's host cluster raised from 1 to 2. cluster: that cluster.
inline Damaged raise_data_refcount(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t c = l.cluster_of(data_offset(l, 0));
  const uint64_t at = l.refcount_entry(c);
  if (peek(p, at, 2) != 1 || !poke(p, at, 2, 2)) return {};
  return {p, at, c, {}};
}

// L2 entry 1 zeroed: its cluster keeps refcount 1 with no reference. before[0]: the entry.
inline Damaged orphan_data_cluster(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(1);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, 0)) return {};
  return {p, at, l.cluster_of(old & kOffsetMask), {old}};
}

// Three clusters written, the middle one discarded (QEMU frees it but the file keeps its
// bytes), then its refcount set back to 1: a leak of a cluster nothing ever pointed at since.
inline Damaged free_cluster_refcount(const TempDir& dir) {
  const std::string p = small_image(dir, {}, {"write -P 0x11 0 64k", "write -P 0x12 64k 64k",
                                              "write -P 0x13 128k 64k"});
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t c = l.cluster_of(data_offset(l, 1));
  if (!qemu_io(p, {"discard 64k 64k"})) return {};
  const uint64_t at = l.refcount_entry(c);
  if (peek(p, at, 2) != 0) {
    ADD_FAILURE() << "qemu-io discard did not free cluster " << c;
    return {};
  }
  if ((c + 1) * kCluster > file_size(p)) {
    ADD_FAILURE() << "cluster " << c << " is not inside the file any more";
    return {};
  }
  if (!poke(p, at, 2, 1)) return {};
  return {p, at, c, {}};
}

// COPIED cleared on L2 entry 0 (its cluster's refcount is 1). before[0]: the entry.
inline Damaged clear_copied_l2(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!(old & kEntryCopied) || !poke(p, at, 8, old & ~kEntryCopied)) return {};
  return {p, at, l.cluster_of(old & kOffsetMask), {old}};
}

// COPIED cleared on L1 entry 0 (the L2 table's refcount is 1). before[0]: the entry.
inline Damaged clear_copied_l1(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l1_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!(old & kEntryCopied) || !poke(p, at, 8, old & ~kEntryCopied)) return {};
  return {p, at, l.cluster_of(old & kOffsetMask), {old}};
}

// L2 entry 1 made a copy of entry 0: one cluster, two referrers, refcount 1 (and entry 1's
// old cluster leaks). cluster: the shared one; before: {entry 0, old entry 1}.
inline Damaged cross_link(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t l2 = l.l2();
  const uint64_t e0 = peek(p, l2, 8);
  const uint64_t e1 = peek(p, l2 + 8, 8);
  if (!poke(p, l2 + 8, 8, e0)) return {};
  return {p, l2 + 8, l.cluster_of(e0 & kOffsetMask), {e0, e1}};
}

// The refcount of guest cluster 0's host cluster set to 0 while L2 entry 0 points at it.
inline Damaged zero_refcount(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t c = l.cluster_of(data_offset(l, 0));
  const uint64_t at = l.refcount_entry(c);
  if (!poke(p, at, 2, 0)) return {};
  return {p, at, c, {}};
}

// Refcount table entry 0 zeroed: no refcount block describes any cluster of the image.
inline Damaged reftable_miss(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.reftable_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, 0)) return {};
  return {p, at, 0, {old}};
}

// A refcount of 1 for a cluster 8 clusters past the end of the file. cluster: that one.
inline Damaged refcount_past_eof(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t c = file_size(p) / kCluster + 8;
  const uint64_t at = l.refcount_entry(c);
  if (!poke(p, at, 2, 1)) return {};
  return {p, at, c, {}};
}

// --- L1 and L2 entries ------------------------------------------------------------------

// L1 entry 0 pointed 512 bytes into guest cluster 0's data cluster, whose bytes there are
// made to look like an L2 table mapping 4 clusters onto guest cluster 1's host cluster. A
// checker that followed the pointer would count those and find cluster 1's refcount too low.
// before: {old L1 entry, the bogus L2 offset, guest cluster 1's host cluster}.
inline Damaged l1_unaligned(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l1_entry(0);
  const uint64_t old = peek(p, at, 8);
  const uint64_t bogus = data_offset(l, 0) + 0x200;
  const uint64_t target = data_offset(l, 1);
  for (uint64_t k = 0; k < 4; ++k)
    if (!poke(p, bogus + 8 * k, 8, kEntryCopied | target)) return {};
  if (!poke(p, at, 8, kEntryCopied | bogus)) return {};
  return {p, at, l.cluster_of(target), {old, bogus, l.cluster_of(target)}};
}

// L1 entry 0 pointed 1 GiB into a 448 KiB file, without COPIED (as for l2_past_eof: QEMU's
// COPIED pass would add a mismatch of its own). before[0]: the old entry.
inline Damaged l1_past_eof(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l1_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, kFarAway)) return {};
  return {p, at, 0, {old}};
}

// Reserved bit 1 set in L1 entry 0 (the L2 offset itself is intact).
inline Damaged l1_reserved_bits(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l1_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, old | 0x2)) return {};
  return {p, at, 0, {old}};
}

// Reserved bit 1 set in L2 entry 0 (the data offset itself is intact).
inline Damaged l2_reserved_bits(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, old | 0x2)) return {};
  return {p, at, l.cluster_of(old & kOffsetMask), {old}};
}

// L2 entry 1 pointed 512 bytes into its own data cluster. before[0]: the old entry.
inline Damaged l2_unaligned(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(1);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, old + 0x200)) return {};
  return {p, at, l.cluster_of(old & kOffsetMask), {old}};
}

// L2 entry 1 pointed 1 GiB into the file, without COPIED: QEMU's COPIED pass would otherwise
// add a mismatch of its own for a cluster no refcount block describes (refcount 0 != 1).
// before[0]: the old entry.
inline Damaged l2_past_eof(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(1);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, kFarAway)) return {};
  return {p, at, l.cluster_of(old & kOffsetMask), {old}};
}

// Eight sequential clusters written at once; L2 entries 3, 4 and 5 overwritten with
// unaligned garbage that still lies inside the file. before: the 8 original entries.
inline Damaged garbled_run(const TempDir& dir) {
  const std::string p = small_image(dir, {}, {"write -P 0x33 0 512k"});
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t l2 = l.l2();
  std::vector<uint64_t> entries;
  for (uint64_t i = 0; i < 8; ++i) entries.push_back(peek(p, l2 + 8 * i, 8));
  for (uint64_t i = 1; i < 8; ++i) {
    if ((entries[i] & kOffsetMask) != (entries[0] & kOffsetMask) + i * kCluster) {
      ADD_FAILURE() << "QEMU did not lay the 8 clusters out sequentially";
      return {};
    }
  }
  for (uint64_t i = 3; i <= 5; ++i)
    if (!poke(p, l2 + 8 * i, 8, (entries[0] & kOffsetMask) + 0x3a00 + i * 0x1200)) return {};
  return {p, l2 + 8 * 3, 0, entries};
}

// --- refcount table entries -------------------------------------------------------------

inline Damaged reftable_entry(const TempDir& dir, const std::function<uint64_t(uint64_t)>& garble) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.reftable_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, garble(old))) return {};
  return {p, at, 0, {old}};
}
inline Damaged reftable_reserved_bits(const TempDir& dir) {
  return reftable_entry(dir, [](uint64_t v) { return v | 0x1; });
}
inline Damaged reftable_unaligned(const TempDir& dir) {
  return reftable_entry(dir, [](uint64_t v) { return v + 0x200; });
}
inline Damaged reftable_past_eof(const TempDir& dir) {
  return reftable_entry(dir, [](uint64_t) { return kFarAway; });
}

// --- overlaps ---------------------------------------------------------------------------

// L2 entry 0 pointed (as data, with COPIED) at the cluster of the active L1 table.
// cluster: that cluster; before[0]: the old entry.
inline Damaged data_over_l1(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, kEntryCopied | l.l1())) return {};
  return {p, at, l.cluster_of(l.l1()), {old}};
}

// The same, at refcount block 0.
inline Damaged data_over_refblock(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t old = peek(p, at, 8);
  const uint64_t block = l.refblock(0);
  if (!poke(p, at, 8, kEntryCopied | block)) return {};
  return {p, at, l.cluster_of(block), {old}};
}

// --- snapshots --------------------------------------------------------------------------

// Two internal snapshots, s1 and s2, with a write between them. Taking s2 writes the new
// snapshot table last, so it ends the file (unpadded) unless `write_after` adds data behind it.
inline std::string two_snapshots(const TempDir& dir, bool write_after = false) {
  const std::string p = small_image(dir);
  if (p.empty()) return "";
  for (const char* name : {"s1", "s2"}) {
    CommandResult r = qemu_img({"snapshot", "-c", name, p}, dir.path());
    if (!r.ok()) {
      ADD_FAILURE() << r.describe();
      return "";
    }
    if ((name == std::string("s1") || write_after) && !qemu_io(p, {"write -P 0x44 0 64k"})) return "";
  }
  return p;
}

// Offset of snapshot table entry `index` (entries are 40 bytes + extra data + id + name,
// padded to 8).
inline uint64_t snapshot_entry(const std::string& p, uint64_t index) {
  uint64_t off = peek(p, 64, 8);
  for (uint64_t i = 0; i < index; ++i) {
    const uint64_t id = peek(p, off + 12, 2), name = peek(p, off + 14, 2), extra = peek(p, off + 36, 4);
    off += (40 + extra + id + name + 7) & ~uint64_t{7};
  }
  return off;
}

// The second snapshot's name length (u16 at entry + 14) set to 0xffff. The table ends the
// file, so the name now runs past its end.
inline Damaged snapshot_name_length(const TempDir& dir) {
  const std::string p = two_snapshots(dir);
  if (p.empty()) return {};
  const uint64_t entry = snapshot_entry(p, 1);
  const uint64_t at = entry + 14;
  const uint64_t old = peek(p, at, 2);
  if (!poke(p, at, 2, 0xffff)) return {};
  if (entry + 40 + 0xffff <= file_size(p)) {
    ADD_FAILURE() << "the snapshot table does not end the file: the long name would fit";
    return {};
  }
  return {p, at, 0, {old}};
}

// The same with data written after s2, so the 64 KiB name lies inside the file: the table
// now reaches over the data cluster written last. cluster: that data cluster.
inline Damaged snapshot_name_into_data(const TempDir& dir) {
  const std::string p = two_snapshots(dir, true);
  if (p.empty()) return {};
  const uint64_t entry = snapshot_entry(p, 1);
  const uint64_t at = entry + 14;
  const uint64_t old = peek(p, at, 2);
  if (!poke(p, at, 2, 0xffff)) return {};
  const uint64_t table_end = entry + 40 + peek(p, entry + 36, 4) + peek(p, entry + 12, 2) + 0xffff;
  if (table_end > file_size(p)) {
    ADD_FAILURE() << "the long name runs past the end of the file";
    return {};
  }
  return {p, at, (table_end - 1) / kCluster, {old}};
}

// nb_snapshots (u32 at 60) set to 70000, over QEMU's limit of 65536.
inline Damaged snapshot_count(const TempDir& dir) {
  const std::string p = two_snapshots(dir);
  if (p.empty()) return {};
  if (!poke(p, 60, 4, 70000)) return {};
  return {p, 60, 0, {2}};
}

// The first snapshot's L1 table offset (u64 at entry + 0) moved 512 bytes on.
inline Damaged snapshot_l1_unaligned(const TempDir& dir) {
  const std::string p = two_snapshots(dir);
  if (p.empty()) return {};
  const uint64_t at = snapshot_entry(p, 0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, old + 0x200)) return {};
  return {p, at, 0, {old}};
}

// --- compressed clusters ----------------------------------------------------------------

// One compressed cluster at guest 0; returns the image and its decoded L2 entry 0.
inline std::pair<std::string, L2Entry> compressed_image(const TempDir& dir, bool zstd) {
  const std::string p = small_image(dir, zstd ? std::vector<std::string>{"compression_type=zstd"}
                                              : std::vector<std::string>{},
                                    {"write -c -P 0x5a 0 64k"});
  if (p.empty()) return {};
  auto img = Image::open(p);
  if (!img.ok()) {
    ADD_FAILURE() << img.status().message();
    return {};
  }
  Layout l(p);
  const L2Entry e = decode_l2_entry(peek(p, l.l2_entry(0), 8), 0, (*img)->geometry());
  if (e.kind != L2Kind::kCompressed) {
    ADD_FAILURE() << "guest cluster 0 is not compressed";
    return {};
  }
  return {p, e};
}

// The compressed descriptor's offset moved 1 GiB on (its sector count kept).
// before[0]: the old entry.
inline Damaged compressed_past_eof(const TempDir& dir, bool zstd) {
  auto [p, e] = compressed_image(dir, zstd);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  if (!poke(p, at, 8, (e.raw & ~((1ULL << 54) - 1)) | kFarAway)) return {};
  return {p, at, l.cluster_of(e.comp_offset), {e.raw}};
}

// The compressed stream's bytes overwritten with 0xff (inside the file).
inline Damaged compressed_bad_stream(const TempDir& dir, bool zstd) {
  auto [p, e] = compressed_image(dir, zstd);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t len = std::min(e.comp_length, file_size(p) - e.comp_offset);
  if (!fill(p, e.comp_offset, len, 0xff)) return {};
  return {p, l.l2_entry(0), l.cluster_of(e.comp_offset), {e.raw}};
}
inline Damaged zlib_past_eof(const TempDir& dir) { return compressed_past_eof(dir, false); }
inline Damaged zstd_past_eof(const TempDir& dir) { return compressed_past_eof(dir, true); }
inline Damaged zlib_bad_stream(const TempDir& dir) { return compressed_bad_stream(dir, false); }
inline Damaged zstd_bad_stream(const TempDir& dir) { return compressed_bad_stream(dir, true); }

// --- extended L2 ------------------------------------------------------------------------

// Extended L2, guest cluster 0 fully written; subcluster 0 then also marked zero in the
// bitmap word (bytes 8..15 of the 16-byte entry). at: the entry (not the bitmap word).
inline Damaged subcluster_alloc_and_zero(const TempDir& dir) {
  const std::string p = small_image(dir, {"extended_l2=on"}, {"write -P 0x11 0 64k"});
  if (p.empty()) return {};
  Layout l(p, 16);
  const uint64_t at = l.l2_entry(0);
  const uint64_t bitmap = peek(p, at + 8, 8);
  if (bitmap != 0xffffffffULL) {
    ADD_FAILURE() << fmt::format("unexpected bitmap 0x{:x} after a full-cluster write", bitmap);
    return {};
  }
  if (!poke(p, at + 8, 8, bitmap | (1ULL << 32))) return {};
  return {p, at, 0, {bitmap}};
}

// --- header -----------------------------------------------------------------------------

inline Damaged header_u64_or(const TempDir& dir, uint64_t offset, uint64_t bits) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  const uint64_t old = peek(p, offset, 8);
  if (!poke(p, offset, 8, old | bits)) return {};
  return {p, offset, 0, {old}};
}
inline Damaged corrupt_bit(const TempDir& dir) { return header_u64_or(dir, 72, 1ULL << 1); }
inline Damaged dirty_bit(const TempDir& dir) { return header_u64_or(dir, 72, 1ULL << 0); }
inline Damaged unknown_incompatible_bit(const TempDir& dir) { return header_u64_or(dir, 72, 1ULL << 20); }
inline Damaged unknown_compatible_bit(const TempDir& dir) { return header_u64_or(dir, 80, 1ULL << 5); }

// cluster_bits (u32 at 20) set to 40: nothing past the header can be located.
inline Damaged cluster_bits_40(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  if (!poke(p, 20, 4, 40)) return {};
  return {p, 20, 0, {16}};
}

// --- bitmaps ----------------------------------------------------------------------------

// A persistent bitmap b0 with dirty bits stored (so its table has a data cluster).
// Returns the image and the offset of its directory entry.
inline std::pair<std::string, uint64_t> bitmap_image(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  CommandResult r = qemu_img({"bitmap", "--add", p, "b0"}, dir.path());
  if (!r.ok()) {
    ADD_FAILURE() << r.describe();
    return {};
  }
  if (!qemu_io(p, {"write -P 0x55 1M 64k"})) return {};
  auto img = Image::open(p);
  if (!img.ok() || !(*img)->extensions().bitmaps) {
    ADD_FAILURE() << "no bitmaps extension after qemu-img bitmap --add";
    return {};
  }
  return {p, (*img)->extensions().bitmaps->directory_offset};
}

// IN_USE (bit 0 of the u32 flags at entry + 12) set, as after a crash.
inline Damaged bitmap_in_use(const TempDir& dir) {
  auto [p, entry] = bitmap_image(dir);
  if (p.empty()) return {};
  const uint64_t flags = peek(p, entry + 12, 4);
  if (!poke(p, entry + 12, 4, flags | 1)) return {};
  return {p, entry, 0, {flags}};
}

// Reserved bit 1 set in the first non-zero entry of the bitmap table (u64 offset at entry + 0,
// u32 size at entry + 8). cluster: the bitmap data cluster it pointed at; before: {old
// entry, its index}.
inline Damaged bitmap_table_reserved(const TempDir& dir) {
  auto [p, entry] = bitmap_image(dir);
  if (p.empty()) return {};
  const uint64_t table = peek(p, entry, 8);
  const uint64_t size = peek(p, entry + 8, 4);
  for (uint64_t i = 0; i < size; ++i) {
    const uint64_t old = peek(p, table + 8 * i, 8);
    if (old == 0) continue;
    if (!poke(p, table + 8 * i, 8, old | 0x2)) return {};
    return {p, table + 8 * i, (old & kOffsetMask) / kCluster, {old, i}};
  }
  ADD_FAILURE() << "the bitmap table has no data cluster";
  return {};
}

// --- linked files -----------------------------------------------------------------------

// An overlay whose backing file was deleted after it was made.
inline Damaged backing_missing(const TempDir& dir) {
  const std::string base = small_image(dir, {}, {"write -P 0x66 0 128k"}, "base.qcow2");
  if (base.empty()) return {};
  const std::string p = dir.file("overlay.qcow2");
  CommandResult r = qemu_img({"create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", p}, dir.path());
  if (!r.ok()) {
    ADD_FAILURE() << r.describe();
    return {};
  }
  if (!qemu_io(p, {"write -P 0x67 64k 64k"})) return {};
  std::filesystem::remove(base);
  return {p, 0, 0, {}};
}

// An image with an external data file that was deleted.
inline Damaged data_file_missing(const TempDir& dir) {
  const std::string p = small_image(dir, {"data_file=a.data"});
  if (p.empty()) return {};
  std::filesystem::remove(dir.file("a.data"));
  return {p, 0, 0, {}};
}

}  // namespace qcow2::test::damage
