#include "engine/check/layout.h"

#include <fmt/format.h>

#include <algorithm>
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

bool Layout::header_rooted(Role r) {
  switch (r) {
    case Role::kHeader:
    case Role::kL1:
    case Role::kRefTable:
    case Role::kSnapshotTable:
    case Role::kBitmapDirectory:
    case Role::kCryptoHeader: return true;
    default: return false;
  }
}

void Layout::contest(const Claim& refused, const Claim& owner) {
  if (header_rooted(owner.role)) return;
  // Two pointers naming one table of one kind: the table is what both say it is.
  if (refused.role == owner.role && refused.offset == owner.offset && refused.bytes == owner.bytes) return;
  const uint32_t bits = claims_.cluster_bits();
  const ClusterSpan a = cluster_span(refused.offset, refused.bytes, bits);
  const ClusterSpan b = cluster_span(owner.offset, owner.bytes, bits);
  const uint64_t first = std::max(a.first, b.first), end = std::min(a.first + a.count, b.first + b.count);
  if (first < end) contested_.push_back({first, end - first});
}

void Layout::add(Finding f) {
  if (++listed_[f.code] <= kMaxFindingsPerCode) findings_.push_back(std::move(f));
  else ++not_listed_[f.code];
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
// snapshot's different table) is a cross-link. Claimed as one batch: thousands of snapshots
// must not cost a quadratic number of claims.
std::vector<Layout::SharedTable> Layout::claim_tables(const TableUsers& users, Role role,
                                                      const RefusedTable& refused) {
  std::vector<Claim> batch;
  std::vector<const std::vector<uint32_t>*> who;
  for (const auto& [key, users_of] : users) {
    batch.push_back({key.first, uint64_t{key.second} * 8, role, users_of.front()});
    who.push_back(&users_of);
  }
  std::vector<bool> out_of_it(batch.size(), false);
  for (const ClaimMap::Refused& r : claims_.claim_all(batch)) {
    out_of_it[r.position] = true;
    contest(batch[r.position], r.owner);
    refused(*who[r.position], batch[r.position], r.owner);
  }
  std::vector<SharedTable> accepted;
  for (size_t k = 0; k < batch.size(); ++k)
    if (!out_of_it[k]) accepted.push_back({batch[k].offset, batch[k].bytes / 8, who[k]});
  return accepted;
}

Status Layout::add_snapshot_l1s() {
  const Image& img = *img_;
  const auto& snaps = img.snapshots().snapshots;
  snapshot_l1_.resize(snaps.size());
  auto fail = [&](const Snapshot& s, const char* code, std::string problem, bool cross) {
    TableVerdict& v = snapshot_l1_[s.index];
    v.problem = problem;
    v.cross_link = cross;
    Finding f = make_finding(code, Category::kSnapshot, "snapshot table",
                             fmt::format("{}: {}", snapshot_label(s), problem),
                             fmt::format("delete snapshot {} from the table (its L1 table cannot be read)",
                                         escape_text(s.id)));
    f.at_field(s.entry_offset, 8, s.l1_table_offset);
    f.index = s.index;
    add(std::move(f));
  };
  TableUsers users;  // (offset, entries) -> snapshots
  for (const Snapshot& s : snaps) {
    if (std::string why = snapshot_l1_problem(s, img.geometry(), img.file_size()); !why.empty())
      fail(s, "snapshot-l1", std::move(why), false);
    else if (s.l1_size != 0)  // an empty table maps nothing: nothing to read
      users[{s.l1_table_offset, s.l1_size}].push_back(s.index);
  }
  // Decoded in snapshot order, so that the first snapshot's table comes first.
  std::vector<SharedTable> tables =
      claim_tables(users, Role::kSnapshotL1, [&](const std::vector<uint32_t>& who, const Claim& c, const Claim& owner) {
        for (uint32_t i : who)
          fail(snaps[i], "snapshot-l1-cross-link",
               fmt::format("its L1 table (0x{:x}, {} entries) lies in {}: it is not decoded", c.offset, c.bytes / 8,
                           describe_claim(owner)),
               true);
      });
  std::sort(tables.begin(), tables.end(),
            [](const SharedTable& a, const SharedTable& b) { return a.users->front() < b.users->front(); });
  for (const SharedTable& st : tables) {
    const Snapshot& first = snaps[st.users->front()];
    const std::vector<uint32_t>& who = *st.users;
    L1Table t;
    t.snapshot = static_cast<int32_t>(first.index);
    t.offset = first.l1_table_offset;
    t.disk_size = first.disk_size.value_or(img.header().size);
    t.times = static_cast<uint32_t>(who.size());
    t.name = fmt::format("snapshot {} L1", escape_text(first.id));
    QCOW2_ASSIGN_OR_RETURN(t.entries, img.read_snapshot_l1(first));
    for (uint32_t i : who) snapshot_l1_[i].table = static_cast<int32_t>(l1_tables_.size());
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
    if (!e.used() && !e.reserved) continue;
    const char* code = nullptr;
    std::string msg;
    Block& state = blocks_[i];
    if (e.reserved) {
      state = e.used() ? Block::kReservedBits : Block::kUnused;
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
      add(std::move(f));
      continue;
    }
    batch.push_back({e.block_offset, g.cluster_size, Role::kRefBlock, i});
  }
  for (const Claim& c : batch) blocks_[c.index] = Block::kOk;
  for (const ClaimMap::Refused& r : claims_.claim_all(batch)) {
    const Claim& c = batch[r.position];
    contest(c, r.owner);
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
    add(std::move(f));
  }
}

// Bitmap tables must have exactly the entries the disk size and granularity call for: a larger
// one claims more than any bitmap needs and is not read. Bitmaps naming the same table share
// one decoded copy; the distinct tables are claimed as one batch.
Status Layout::add_bitmap_tables() {
  const Image& img = *img_;
  const Geometry& g = img.geometry();
  const auto& list = img.bitmaps().bitmaps;
  bitmap_.resize(list.size());
  auto who = [&](uint32_t i) { return fmt::format("bitmap '{}' table", escape_text(list[i].name)); };
  auto fail = [&](uint32_t i, const char* code, std::string problem, bool cross) {
    TableVerdict& v = bitmap_[i];
    v.problem = problem;
    v.cross_link = cross;
    Finding f = make_finding(code, Category::kCorrupt, who(i), std::move(problem),
                             fmt::format("qemu-img bitmap --remove -- IMAGE {}", shell_quote(list[i].name)));
    f.at_field(list[i].entry_offset, 8, list[i].table_offset);
    f.index = i;
    add(std::move(f));
  };
  TableUsers users;
  for (uint32_t i = 0; i < list.size(); ++i) {
    const BitmapEntry& b = list[i];
    const uint64_t bytes = uint64_t{b.table_size} * 8;
    if (b.table_offset == 0 || !is_aligned(b.table_offset, g.cluster_size) ||
        !inside_file(b.table_offset, bytes, img.file_size())) {
      fail(i, "bitmap-table-range",
           fmt::format("bitmap table at 0x{:x} ({} entries) is unaligned or outside the file", b.table_offset,
                       b.table_size),
           false);
      continue;
    }
    if (b.granularity_bits < 9 || b.granularity_bits > 31) continue;  // the directory's finding says why
    const uint64_t need = bitmap_table_entries_needed(img.header().size, b.granularity_bits, g.cluster_size);
    if (b.table_size != need) {
      fail(i, "bitmap-table-size",
           fmt::format("bitmap table at 0x{:x} has {} entries, but a {}-byte disk at granularity {} needs {}{}",
                       b.table_offset, b.table_size, img.header().size, 1ULL << b.granularity_bits, need,
                       b.table_size > need ? ": it is not read" : ""),
           false);
      if (b.table_size > need) continue;
    }
    users[{b.table_offset, b.table_size}].push_back(i);
  }
  const std::vector<SharedTable> tables =
      claim_tables(users, Role::kBitmapTable, [&](const std::vector<uint32_t>& who, const Claim& c, const Claim& owner) {
        for (uint32_t i : who)
          fail(i, "bitmap-table-cross-link",
               fmt::format("bitmap table at 0x{:x} ({} entries) lies in {}: it is not decoded", c.offset, c.bytes / 8,
                           describe_claim(owner)),
               true);
      });
  for (const SharedTable& st : tables) {
    const std::vector<uint32_t>& users_of = *st.users;
    BitmapTable t;
    t.offset = st.offset;
    t.first_bitmap = users_of.front();
    t.times = static_cast<uint32_t>(users_of.size());
    QCOW2_ASSIGN_OR_RETURN(t.entries, img.read_u64_table(t.offset, st.entries, who(t.first_bitmap),
                                                         uint64_t{kMaxBitmapTableEntries} * 8));
    for (uint32_t i : users_of) bitmap_[i].table = static_cast<int32_t>(bitmap_tables_.size());
    bitmap_tables_.push_back(std::move(t));
  }
  return Status::Ok();
}

}  // namespace qcow2
