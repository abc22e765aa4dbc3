#include "engine/repair/plan_snapshots.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/check/layout.h"
#include "engine/format/bitmap.h"
#include "engine/repair/plan_check_repair.h"
#include "engine/repair/plan_refcounts.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

// Header fields (the same offsets in versions 2 and 3).
constexpr uint64_t kSizeField = 24;        // size (8), crypt_method (4), l1_size (4), l1_table_offset (8)
constexpr uint64_t kL1SizeField = 36;      // l1_size (4), l1_table_offset (8)
constexpr uint64_t kNbSnapshotsField = 60;  // nb_snapshots (4), snapshots_offset (8)
// Snapshot table entry fields.
constexpr uint64_t kEntryVmStateSize = 32;       // u32
constexpr uint64_t kEntryVmStateSizeLarge = 40;  // u64, extra data 0..7
constexpr uint64_t kEntryDiskSize = 48;          // u64, extra data 8..15

std::string label(const Snapshot& s) {
  return fmt::format("snapshot[{}] (id '{}', name '{}')", s.index, escape_text(s.id), escape_text(s.name));
}

// What the table holds, for a refusal: the readable entries (the first few), and why the
// rest cannot be read.
std::string listing(const SnapshotTable& t) {
  std::string out;
  if (t.snapshots.empty()) {
    out = "no snapshot table entry can be read";
  } else {
    out = "the snapshots are:";
    const size_t shown = std::min<size_t>(t.snapshots.size(), 16);
    for (size_t i = 0; i < shown; ++i) {
      const Snapshot& s = t.snapshots[i];
      out += fmt::format("{} {}", i ? "," : "", label(s));
    }
    if (shown < t.snapshots.size()) out += fmt::format(" and {} more", t.snapshots.size() - shown);
  }
  if (!t.ok()) out += fmt::format("; entries from {} on cannot be read: {}", *t.bad_index, t.error);
  return out;
}

// "snapshot[N]": N in decimal, nothing else.
std::optional<uint64_t> index_form(const std::string& want) {
  constexpr std::string_view kPrefix = "snapshot[";
  if (want.size() <= kPrefix.size() + 1 || want.compare(0, kPrefix.size(), kPrefix) != 0 || want.back() != ']')
    return std::nullopt;
  const std::string digits = want.substr(kPrefix.size(), want.size() - kPrefix.size() - 1);
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoull(digits);
}

// The entry `want` names: exactly by id, else exactly by name, else "snapshot[N]". Never a
// prefix; a value two entries share is refused, saying what to use instead.
Result<size_t> find_snapshot(const Image& img, const std::string& want) {
  const SnapshotTable& t = img.snapshots();
  if (img.header().nb_snapshots == 0) return Status::NotFound("the image has no snapshots");
  const auto matching = [&](auto field) {
    std::vector<size_t> out;
    for (size_t i = 0; i < t.snapshots.size(); ++i)
      if (field(t.snapshots[i]) == want) out.push_back(i);
    return out;
  };
  const auto ambiguous = [&](const std::vector<size_t>& which, const char* what, const char* use) {
    std::string who;
    for (size_t i : which) who += fmt::format("{}snapshot[{}]", who.empty() ? "" : ", ", i);
    return Status::InvalidArgument(fmt::format("snapshot {} '{}' is ambiguous: {} share it; use {}", what,
                                               escape_text(want), who, use));
  };
  const std::vector<size_t> by_id = matching([](const Snapshot& s) -> const std::string& { return s.id; });
  if (by_id.size() == 1) return by_id.front();
  if (by_id.size() > 1) return ambiguous(by_id, "id", "snapshot[N]");
  const std::vector<size_t> by_name = matching([](const Snapshot& s) -> const std::string& { return s.name; });
  if (by_name.size() == 1) return by_name.front();
  if (by_name.size() > 1) return ambiguous(by_name, "name", "the id");
  if (const std::optional<uint64_t> n = index_form(want)) {
    if (*n < t.snapshots.size()) return static_cast<size_t>(*n);
    return Status::NotFound(fmt::format("there is no snapshot[{}]: {}", *n, listing(t)));
  }
  return Status::NotFound(fmt::format("no snapshot has the id or name '{}': {}", escape_text(want), listing(t)));
}

Status need_walkable(const Image& img, const CheckResult& check) {
  if (!img.walkable() || !check.counts || !check.layout)
    return Status::InvalidArgument("the image cannot be walked (see the header findings): fix the header first");
  return Status::Ok();
}

// The raw bytes of entry `s` as the file holds them: fixed part, extra data, id, name and
// padding (zeros where a last entry ends unpadded at the end of the file).
Result<std::vector<uint8_t>> entry_bytes(const Image& img, const Snapshot& s) {
  std::vector<uint8_t> out(s.entry_bytes, 0);
  const uint64_t in_file = std::min<uint64_t>(s.entry_bytes, img.file_size() - s.entry_offset);
  QCOW2_RETURN_IF_ERROR(img.file().read(s.entry_offset, std::span<uint8_t>(out).first(in_file)));
  return out;
}

std::string names(const SnapshotTable& t, const std::vector<bool>& keep) {
  std::vector<std::string> gone;
  for (size_t i = 0; i < t.snapshots.size(); ++i)
    if (!keep[i]) gone.push_back(label(t.snapshots[i]));
  std::string out;
  for (size_t i = 0; i < std::min<size_t>(gone.size(), 8); ++i) out += (i ? ", " : "") + gone[i];
  if (gone.size() > 8) out += fmt::format(" and {} more", gone.size() - 8);
  return out;
}

}  // namespace

Status plan_snapshot_delete(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  const Image& img = b.image();
  QCOW2_RETURN_IF_ERROR(need_walkable(img, check));
  const Header& h = img.header();
  const SnapshotTable& t = img.snapshots();
  const bool none = cmd.kind == RepairKind::kDelete ? cmd.snapshot == "all" : cmd.snapshot == "0";
  std::vector<bool> keep(t.snapshots.size(), !none && cmd.kind == RepairKind::kDelete);
  if (!none) {
    QCOW2_ASSIGN_OR_RETURN(const size_t i, find_snapshot(img, cmd.snapshot));
    keep[i] = cmd.kind == RepairKind::kKeepOnly;
  }
  const size_t kept = static_cast<size_t>(std::count(keep.begin(), keep.end(), true));
  // Nothing removed and nothing unreadable dropped: the table stays as it is.
  if (kept == t.snapshots.size() && t.ok() && (kept > 0 || (h.nb_snapshots == 0 && h.snapshots_offset == 0)))
    return Status::Ok();

  std::string why = kept == t.snapshots.size() ? std::string("no readable snapshot is removed")
                                                : fmt::format("snapshots removed: {}", names(t, keep));
  if (!t.ok())
    why += fmt::format("; the entries from {} on cannot be read and are dropped ({})", *t.bad_index, t.error);
  if (h.nb_snapshots > t.snapshots.size() && t.ok())
    why += fmt::format("; nb_snapshots said {}", h.nb_snapshots);
  std::vector<uint8_t> header(12, 0);
  if (kept > 0) {
    std::vector<uint8_t> table;
    for (size_t i = 0; i < t.snapshots.size(); ++i) {
      if (!keep[i]) continue;
      QCOW2_ASSIGN_OR_RETURN(const std::vector<uint8_t> e, entry_bytes(img, t.snapshots[i]));
      table.insert(table.end(), e.begin(), e.end());
    }
    const uint64_t at = b.append(std::move(table), "snapshot-delete",
                                 fmt::format("new snapshot table: the kept entries ({}), byte for byte", kept),
                                 Risk::kDestructive);
    store_be32(header.data(), static_cast<uint32_t>(kept));
    store_be64(header.data() + 4, at);
  }
  QCOW2_RETURN_IF_ERROR(b.replace(kNbSnapshotsField, std::move(header), Role::kHeader, "snapshot-delete",
                                  fmt::format("nb_snapshots and snapshots_offset switched to the {}: {}",
                                              kept ? "new table" : "empty table", why),
                                  Risk::kDestructive));
  // What only the removed snapshots used (their L1 and L2 tables and data, the old table)
  // goes; everything else as -R all would leave it.
  RefcountPolicy p;
  p.destructive = cmd.destructive;
  p.released_from = check.counts.get();
  return plan_refcounts_then_flags(b, check, p, cmd.destructive ? Risk::kDestructive : Risk::kRisky);
}

Status plan_snapshot_revert(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  const Image& img = b.image();
  QCOW2_RETURN_IF_ERROR(need_walkable(img, check));
  const Header& h = img.header();
  const Geometry& g = img.geometry();
  const Layout& layout = *check.layout;
  QCOW2_ASSIGN_OR_RETURN(const size_t i, find_snapshot(img, cmd.snapshot));
  const Snapshot& s = img.snapshots().snapshots[i];
  const TableVerdict& v = layout.snapshot_l1(static_cast<uint32_t>(i));
  if (!v.ok())
    return Status::InvalidArgument(fmt::format("{} cannot be reverted to: {}", label(s), v.problem));
  if (v.table >= 0 && layout.l1_tables()[static_cast<size_t>(v.table)].times > 1)
    return Status::InvalidArgument(fmt::format(
        "{} shares its L1 table with another snapshot: as the active table it would change both; delete "
        "the other one first",
        label(s)));
  // QEMU's revert gives the image the snapshot's disk size; the swap does too, and the
  // snapshot entry keeps the old active size with the old active L1, so that they stay a pair.
  const uint64_t size = s.disk_size.value_or(h.size);
  const uint64_t needed = (size + g.guest_bytes_per_l1_entry - 1) / g.guest_bytes_per_l1_entry;
  if (s.l1_size < needed)
    return Status::InvalidArgument(fmt::format(
        "{} has an L1 table of {} entries, too small for a disk of {} bytes ({} entries)", label(s), s.l1_size,
        size, needed));
  const BitmapDirectory& bitmaps = img.bitmaps();
  if (size != h.size && img.extensions().bitmaps && !bitmaps.bitmaps.empty())
    return Status::InvalidArgument(fmt::format(
        "{} has a disk of {} bytes and the image {}: the persistent bitmaps fit only {}; remove them first "
        "(qemu-img bitmap --remove)",
        label(s), size, h.size, h.size));

  const std::string swapped = fmt::format(
      "L1 tables swapped: the active image takes the one of {}, which keeps the old active one (nothing is copied "
      "or freed; the same revert again swaps them back)",
      label(s));
  // The header: one write of the L1 pointer and size (and the disk size, where it changes).
  std::vector<uint8_t> hdr(size != h.size ? 24 : 12);
  const uint64_t hdr_at = size != h.size ? kSizeField : kL1SizeField;
  QCOW2_RETURN_IF_ERROR(img.file().read(hdr_at, hdr));
  uint8_t* l1 = hdr.data() + (kL1SizeField - hdr_at);
  store_be32(l1, s.l1_size);
  store_be64(l1 + 4, s.l1_table_offset);
  if (size != h.size) store_be64(hdr.data(), size);
  QCOW2_RETURN_IF_ERROR(b.replace(hdr_at, std::move(hdr), Role::kHeader, "snapshot-revert",
                                  size != h.size ? swapped + fmt::format("; the disk size becomes {} bytes", size)
                                                 : swapped,
                                  Risk::kRisky));
  // The entry: the old active L1 pointer and size.
  std::vector<uint8_t> entry(12);
  store_be64(entry.data(), h.l1_table_offset);
  store_be32(entry.data() + 8, h.l1_size);
  QCOW2_RETURN_IF_ERROR(b.replace(s.entry_offset, std::move(entry), Role::kSnapshotTable, "snapshot-revert",
                                  swapped, Risk::kRisky));
  if (size != h.size)
    QCOW2_RETURN_IF_ERROR(b.replace(s.entry_offset + kEntryDiskSize, be_bytes(h.size, 8), Role::kSnapshotTable,
                                    "snapshot-revert", "the snapshot keeps the old active disk size", Risk::kRisky));
  // The old active state has no VM state: the snapshot's (mapped past the disk by its L1)
  // stays with the active L1, as after QEMU's revert. An entry claiming some would load garbage.
  const std::string no_vm_state = "the snapshot now holds the old active disk, which has no VM state";
  if (s.vm_state_size != 0)
    QCOW2_RETURN_IF_ERROR(b.replace(s.entry_offset + kEntryVmStateSize, be_bytes(0, 4), Role::kSnapshotTable,
                                    "snapshot-revert", no_vm_state, Risk::kRisky));
  if (s.vm_state_size_large.value_or(0) != 0)
    QCOW2_RETURN_IF_ERROR(b.replace(s.entry_offset + kEntryVmStateSizeLarge, be_bytes(0, 8), Role::kSnapshotTable,
                                    "snapshot-revert", no_vm_state, Risk::kRisky));
  // A persistent bitmap records what changed since some point; the revert changes the guest
  // data behind its back (QEMU refuses a revert with dirty bitmaps for that reason). IN_USE
  // tells QEMU the bitmap is inconsistent, so no incremental backup trusts it.
  for (const BitmapEntry& e : bitmaps.bitmaps) {
    if (e.flags & kBitmapInUse) continue;
    QCOW2_RETURN_IF_ERROR(b.set_bits(e.entry_offset + 12, 4, kBitmapInUse, kBitmapInUse, Role::kBitmapDirectory,
                                     "snapshot-revert",
                                     fmt::format("bitmap '{}' marked IN_USE: the revert changes the guest data "
                                                 "without it, so it no longer says what changed",
                                                 escape_text(e.name)),
                                     Risk::kRisky)
                              .status());
  }
  return plan_flags(b, check, cmd.destructive ? Risk::kDestructive : Risk::kRisky);
}

}  // namespace qcow2
