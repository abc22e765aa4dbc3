#include "engine/check/layout.h"

#include <fmt/format.h>

#include <map>
#include <utility>

#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/limits.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

std::string snapshot_label(const Snapshot& s) {
  return fmt::format("snapshot {} (id {}, '{}')", s.index, escape_text(s.id), escape_text(s.name));
}

}  // namespace

std::string Layout::block_problem(uint64_t index) const {
  const uint64_t raw = index < reftable_.size() ? reftable_[index] : 0;
  switch (block(index)) {
    case Block::kOk: return {};
    case Block::kUnused: return fmt::format("refcount table entry {} (0x{:x}) points at no block", index, raw);
    case Block::kReservedBits:
      return fmt::format("refcount table entry {} (0x{:x}) has reserved bits set: the block is not trusted", index, raw);
    case Block::kUnaligned:
      return fmt::format("refcount table entry {} (0x{:x}): the block offset is not cluster aligned", index, raw);
    case Block::kPastEof:
      return fmt::format("refcount table entry {} (0x{:x}): the block lies past the end of the file", index, raw);
    case Block::kCrossLink:
      return fmt::format("refcount table entry {} (0x{:x}): the block lies in another structure (see the "
                         "reftable-cross-link finding): it is not read",
                         index, raw);
  }
  return {};
}

uint64_t bitmap_table_entries_needed(uint64_t disk_size, uint32_t granularity_bits, uint64_t cluster_size) {
  const uint64_t bits = (disk_size >> granularity_bits) + ((disk_size & ((1ULL << granularity_bits) - 1)) != 0);
  const uint64_t bits_per_cluster = cluster_size * 8;
  return bits / bits_per_cluster + (bits % bits_per_cluster != 0);
}

Result<Layout> Layout::build(const Image& img) {
  Layout l(img);
  L1Table active;
  active.offset = img.header().l1_table_offset;
  active.disk_size = img.header().size;
  active.name = "active L1";
  QCOW2_ASSIGN_OR_RETURN(active.entries, img.read_active_l1());
  l.l1_tables_.push_back(std::move(active));
  QCOW2_RETURN_IF_ERROR(l.add_snapshot_l1s());
  QCOW2_ASSIGN_OR_RETURN(l.reftable_, img.read_refcount_table());
  l.add_refcount_blocks();
  QCOW2_RETURN_IF_ERROR(l.add_bitmap_tables());
  return l;
}

// Snapshot entries that name the same table (offset and size) share one decoded copy; a table
// that lies in anything claimed before (the header-rooted structures, the active L1, another
// snapshot's different table) is a cross-link.
Status Layout::add_snapshot_l1s() {
  const Image& img = *img_;
  const auto& snaps = img.snapshots().snapshots;
  snapshot_l1_.resize(snaps.size());
  std::map<std::pair<uint64_t, uint32_t>, int32_t> seen;  // (offset, entries) -> l1_tables_ index
  for (const Snapshot& s : snaps) {
    TableVerdict& v = snapshot_l1_[s.index];
    auto fail = [&](const char* code, std::string problem, bool cross) {
      v.problem = problem;
      v.cross_link = cross;
      Finding f = make_finding(code, Category::kSnapshot, "snapshot table",
                               fmt::format("{}: {}", snapshot_label(s), problem),
                               fmt::format("delete snapshot {} from the table (its L1 table cannot be read)",
                                           escape_text(s.id)));
      f.at_field(s.entry_offset, 8, s.l1_table_offset);
      f.index = s.index;
      findings_.push_back(std::move(f));
    };
    if (std::string why = snapshot_l1_problem(s, img.geometry(), img.file_size()); !why.empty()) {
      fail("snapshot-l1", std::move(why), false);
      continue;
    }
    if (s.l1_size == 0) continue;  // maps nothing: no table to read
    const auto key = std::make_pair(s.l1_table_offset, s.l1_size);
    if (auto it = seen.find(key); it != seen.end()) {
      v.table = it->second;
      ++l1_tables_[it->second].times;
      continue;
    }
    const Claim claim{s.l1_table_offset, uint64_t{s.l1_size} * 8, Role::kSnapshotL1, s.index};
    if (const Claim* owner = claims_.claim(claim)) {
      fail("snapshot-l1-cross-link",
           fmt::format("its L1 table (0x{:x}, {} entries) lies in {}: it is not decoded", s.l1_table_offset,
                       s.l1_size, describe_claim(*owner)),
           true);
      continue;
    }
    L1Table t;
    t.snapshot = static_cast<int32_t>(s.index);
    t.offset = s.l1_table_offset;
    t.disk_size = s.disk_size.value_or(img.header().size);
    t.name = fmt::format("snapshot {} L1", escape_text(s.id));
    QCOW2_ASSIGN_OR_RETURN(t.entries, img.read_snapshot_l1(s));
    v.table = static_cast<int32_t>(l1_tables_.size());
    seen.emplace(key, v.table);
    l1_tables_.push_back(std::move(t));
  }
  return Status::Ok();
}

// Each refcount block covers its own range of clusters: a block named by two entries, or lying
// in another structure, is decoded for neither the later entry nor counted for it.
void Layout::add_refcount_blocks() {
  const Image& img = *img_;
  const Geometry& g = img.geometry();
  const uint64_t table_offset = img.header().refcount_table_offset;
  blocks_.assign(reftable_.size(), Block::kUnused);
  std::vector<Claim> batch;
  for (uint64_t i = 0; i < reftable_.size(); ++i) {
    const RefTableEntry e = decode_reftable_entry(reftable_[i], g);
    if (!e.used()) continue;
    const char* code = nullptr;
    std::string msg;
    Block& state = blocks_[i];
    if (e.reserved) {
      state = Block::kReservedBits;
      code = "reftable-reserved-bits";
      msg = fmt::format("refcount table entry 0x{:016x} has reserved bits 0x{:x} set", e.raw, e.reserved);
    } else if (e.unaligned) {
      state = Block::kUnaligned;
      code = "reftable-unaligned";
      msg = fmt::format("refcount block offset 0x{:x} is not cluster aligned", e.block_offset);
    } else if (!inside_file(e.block_offset, g.cluster_size, img.file_size())) {
      state = Block::kPastEof;
      code = "reftable-past-eof";
      msg = fmt::format("refcount block offset 0x{:x} lies past the end of the file", e.block_offset);
    }
    if (code) {
      Finding f = make_finding(code, Category::kCorrupt, "refcount table", std::move(msg),
                               "rebuild this refcount block from the references");
      f.table_offset = table_offset;
      f.at_field(table_offset + i * 8, 8, e.raw, e.reserved);
      f.index = i;
      findings_.push_back(std::move(f));
      continue;
    }
    batch.push_back({e.block_offset, g.cluster_size, Role::kRefBlock, i});
  }
  for (const Claim& c : batch) blocks_[c.index] = Block::kOk;
  for (const ClaimMap::Refused& r : claims_.claim_all(batch)) {
    const Claim& c = batch[r.position];
    blocks_[c.index] = Block::kCrossLink;
    Finding f = make_finding("reftable-cross-link", Category::kCorrupt, "refcount table",
                             fmt::format("refcount table entry {} names a block at 0x{:x} that lies in {}: it is "
                                         "not decoded for this entry",
                                         c.index, c.offset, describe_claim(r.owner)),
                             "rebuild this refcount block from the references (a new block past the end of "
                             "the file)");
    f.table_offset = table_offset;
    f.at_field(table_offset + c.index * 8, 8, reftable_[c.index]);
    f.index = c.index;
    findings_.push_back(std::move(f));
  }
}

// Bitmap tables must have exactly the entries the disk size and granularity call for: a larger
// one claims more than any bitmap needs and is not read.
Status Layout::add_bitmap_tables() {
  const Image& img = *img_;
  const Geometry& g = img.geometry();
  const auto& list = img.bitmaps().bitmaps;
  bitmap_.resize(list.size());
  std::map<std::pair<uint64_t, uint32_t>, int32_t> seen;
  for (uint32_t i = 0; i < list.size(); ++i) {
    const BitmapEntry& b = list[i];
    TableVerdict& v = bitmap_[i];
    const std::string who = fmt::format("bitmap '{}' table", escape_text(b.name));
    auto fail = [&](const char* code, std::string problem, bool cross) {
      v.problem = problem;
      v.cross_link = cross;
      Finding f = make_finding(code, Category::kCorrupt, who, std::move(problem),
                               fmt::format("qemu-img bitmap --remove IMAGE {}", shell_quote(b.name)));
      f.at_field(b.entry_offset, 8, b.table_offset);
      f.index = i;
      findings_.push_back(std::move(f));
    };
    const uint64_t bytes = uint64_t{b.table_size} * 8;
    if (b.table_offset == 0 || !is_aligned(b.table_offset, g.cluster_size) ||
        !inside_file(b.table_offset, bytes, img.file_size())) {
      fail("bitmap-table-range",
           fmt::format("bitmap table at 0x{:x} ({} entries) is unaligned or outside the file", b.table_offset,
                       b.table_size),
           false);
      continue;
    }
    if (b.granularity_bits < 9 || b.granularity_bits > 31) continue;  // the directory's finding says why
    const uint64_t need = bitmap_table_entries_needed(img.header().size, b.granularity_bits, g.cluster_size);
    if (b.table_size != need) {
      fail("bitmap-table-size",
           fmt::format("bitmap table at 0x{:x} has {} entries, but a {}-byte disk at granularity {} needs {}{}",
                       b.table_offset, b.table_size, img.header().size, 1ULL << b.granularity_bits, need,
                       b.table_size > need ? ": it is not read" : ""),
           false);
      if (b.table_size > need) continue;
    }
    const auto key = std::make_pair(b.table_offset, b.table_size);
    if (auto it = seen.find(key); it != seen.end()) {
      v.table = it->second;
      ++bitmap_tables_[it->second].times;
      continue;
    }
    if (const Claim* owner = claims_.claim({b.table_offset, bytes, Role::kBitmapTable, i})) {
      fail("bitmap-table-cross-link",
           fmt::format("bitmap table at 0x{:x} ({} entries) lies in {}: it is not decoded", b.table_offset,
                       b.table_size, describe_claim(*owner)),
           true);
      continue;
    }
    BitmapTable t;
    t.offset = b.table_offset;
    t.first_bitmap = i;
    QCOW2_ASSIGN_OR_RETURN(t.entries, img.read_u64_table(b.table_offset, b.table_size, who, uint64_t{kMaxBitmapTableEntries} * 8));
    v.table = static_cast<int32_t>(bitmap_tables_.size());
    seen.emplace(key, v.table);
    bitmap_tables_.push_back(std::move(t));
  }
  return Status::Ok();
}

}  // namespace qcow2
