// More damage recipes, for the defects a hostile reading of the checker found: pointers into
// other structures (which must never be decoded as what they claim to be), tables shared by
// many pointers, a compressed stream whose first byte lies past the end of the file, and
// verdicts that were wrong (a v2 zero flag on an allocated entry, a data cluster cut by the end
// of the file, a crypt_method that cannot be true).
#pragma once

#include "tests/check/damage_recipes.h"

namespace qcow2::test::damage {

// L1 entry 0 pointed (with COPIED) at the refcount table. Read as an L2 table, the refcount
// table's entries would look like data pointers to the refcount blocks. before: {old entry}.
inline Damaged l1_into_reftable(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l1_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, kEntryCopied | l.reftable())) return {};
  return {p, at, l.cluster_of(l.reftable()), {old}};
}

// The bitmap directory's offset (u64 at extension data + 16) set to 0: the header cluster.
inline Damaged bitmap_directory_at_header(const TempDir& dir) {
  auto [p, entry] = bitmap_image(dir);
  if (p.empty()) return {};
  auto img = Image::open(p);
  if (!img.ok()) return {};
  for (const HeaderExtension& x : (*img)->extensions().all) {
    if (x.type != kExtBitmaps) continue;
    const uint64_t at = x.offset + 8 + 16;
    if (peek(p, at, 8) != entry || !poke(p, at, 8, 0)) return {};
    return {p, at, 0, {entry}};
  }
  ADD_FAILURE() << "no bitmaps extension";
  return {};
}

// snapshots_offset (u64 at 64) set to the active L1 table.
inline Damaged snapshot_table_in_l1(const TempDir& dir) {
  const std::string p = two_snapshots(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t old = peek(p, 64, 8);
  if (!poke(p, 64, 8, l.l1())) return {};
  return {p, 64, l.cluster_of(l.l1()), {old}};
}

// Refcount table entry 1 names the block of entry 0 (each block covers its own range).
inline Damaged refblock_twice(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.reftable_entry(1);
  if (peek(p, at, 8) != 0 || !poke(p, at, 8, l.refblock(0))) return {};
  return {p, at, l.cluster_of(l.refblock(0)), {}};
}

// The second snapshot's L1 table pointer (offset and size) made the first's: one table named
// twice. before: {second's old offset, its l1_size}.
inline Damaged snapshot_l1_shared(const TempDir& dir) {
  const std::string p = two_snapshots(dir);
  if (p.empty()) return {};
  const uint64_t first = snapshot_entry(p, 0), second = snapshot_entry(p, 1);
  const uint64_t old = peek(p, second, 8), size = peek(p, second + 8, 4);
  if (!poke(p, second, 8, peek(p, first, 8)) || !poke(p, second + 8, 4, peek(p, first + 8, 4))) return {};
  return {p, second, old / kCluster, {old, size}};
}

// A compressed cluster that ends the file, the file cut to end inside its last sector (QEMU
// leaves such sizes), and the descriptor's byte offset moved into that sector past the end.
// Reading the stream used to wrap `file_size - offset` and crash.
inline Damaged compressed_offset_in_partial_sector(const TempDir& dir) {
  auto [p, e] = compressed_image(dir, false);
  if (p.empty()) return {};
  uint64_t size = file_size(p);
  if (e.comp_offset + e.comp_length < size - 512) {
    ADD_FAILURE() << "the compressed stream does not end the file";
    return {};
  }
  if (size % 512 == 0) {
    size -= 412;
    if (!truncate_file(p, size)) return {};
  }
  // Strictly past the end, inside the last (partial) sector.
  const uint64_t beyond = size + (512 - size % 512) / 2;
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t raw = peek(p, at, 8);
  // Bits 0..53 hold the byte offset with 64 KiB clusters; the sector count above is kept.
  const uint64_t offset_mask = (1ULL << 54) - 1;
  if (!poke(p, at, 8, (raw & ~offset_mask) | beyond)) return {};
  return {p, at, 0, {raw}};
}

// A version 2 image whose allocated L2 entry 0 has bit 0 set: v2 has no zero clusters, so
// QEMU fails reads of it.
inline Damaged v2_zero_flag_allocated(const TempDir& dir) {
  const std::string p = small_image(dir, {"compat=0.10"});
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, old | 1)) return {};
  return {p, at, 0, {old}};
}

// The file cut in the middle of the last data cluster (a standard entry needs all of it).
inline Damaged data_cluster_cut(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t last = data_offset(l, 1);
  if (last + kCluster != file_size(p) || !truncate_file(p, last + kCluster / 2)) {
    ADD_FAILURE() << "guest cluster 1 does not end the file";
    return {};
  }
  return {p, l.l2_entry(1), l.cluster_of(last), {}};
}

// crypt_method (u32 at 32) set to 1 (AES) on an image whose data is the byte 0x11 repeated.
inline Damaged crypt_method_aes(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  if (!poke(p, 32, 4, 1)) return {};
  return {p, 32, 0, {0}};
}

// Refcount table entry 0 pointed at the active L2 table: refcount blocks are claimed before L2
// tables, so the live table is read as refcount block 0 and the L1 entry becomes a cross-link.
// Nothing may be proposed inside that cluster. cluster: the L2 table's.
inline Damaged reftable_on_l2(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.reftable_entry(0);
  const uint64_t l2 = l.l2();
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, l2)) return {};
  return {p, at, l.cluster_of(l2), {old}};
}

// The first snapshot's L1 table pointed at refcount block 0 (snapshot L1 tables are claimed
// before refcount blocks): the block is read as an L1 table. cluster: the block's.
inline Damaged snapshot_l1_on_refblock(const TempDir& dir) {
  const std::string p = two_snapshots(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = snapshot_entry(p, 0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, l.refblock(0))) return {};
  return {p, at, l.cluster_of(l.refblock(0)), {old}};
}

// The bitmap's table pointed at the active L2 table: the live table is read as bitmap data
// pointers, and the old bitmap table leaks. Its leaked cluster must not pass for the lost L2
// table. cluster: the L2 table's.
inline Damaged bitmap_table_on_l2(const TempDir& dir) {
  auto [p, entry] = bitmap_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t old = peek(p, entry, 8);
  if (!poke(p, entry, 8, l.l2())) return {};
  return {p, entry, l.cluster_of(l.l2()), {old}};
}

// L1 entry 0 made 0x8000000000000000: COPIED left, the L2 offset lost. before: {old entry}.
inline Damaged l1_flags_without_table(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l1_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, kEntryCopied)) return {};
  return {p, at, 0, {old}};
}

// L2 entry 0 pointed 512 bytes into its own cluster with COPIED lost: restored, it must get
// COPIED back (refcount 1, active table), not the damaged value's missing flag.
inline Damaged l2_unaligned_without_copied(const TempDir& dir) {
  const std::string p = small_image(dir);
  if (p.empty()) return {};
  Layout l(p);
  const uint64_t at = l.l2_entry(0);
  const uint64_t old = peek(p, at, 8);
  if (!poke(p, at, 8, (old & kOffsetMask) + 0x200)) return {};
  return {p, at, 0, {old}};
}

}  // namespace qcow2::test::damage
