#include "fusefs/tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "engine/format/l1_entry.h"
#include "engine/render/extension_file_text.h"
#include "engine/render/snapshot_info_text.h"
#include "fusefs/ctl_files.h"
#include "fusefs/snapshot_names.h"

namespace qcow2fs {
namespace {

using qcow2::Result;
using qcow2::Status;

struct Fixed {
  const char* name;
  Kind kind;
};

constexpr Fixed kRootChildren[] = {
    {"header", Kind::kHeader},         {"features", Kind::kFeatures},
    {"extensions", Kind::kExtensionsDir}, {"snapshots", Kind::kSnapshotsDir},
    {"l1", Kind::kL1},                 {"l2", Kind::kL2Dir},
    {"refcount", Kind::kRefcountDir},  {"map", Kind::kMap},
    {"clusters", Kind::kClusters},     {"report.txt", Kind::kReportTxt},
    {"report.json", Kind::kReportJson}, {"status", Kind::kStatus},
    {"ctl", Kind::kCtlDir},
};
constexpr Fixed kSnapshotChildren[] = {
    {"info", Kind::kSnapshotInfo}, {"l1", Kind::kL1}, {"l2", Kind::kL2Dir}};

constexpr uint64_t kL1Chunk = 1024;  // L1 entries copied per step of a listing

// A decimal index in its one canonical spelling ("7", never "07"), so each node has one name.
std::optional<uint64_t> parse_index(std::string_view s) {
  if (s.empty() || s.size() > 12 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > kMaxIndex) return std::nullopt;
  return v;
}

bool l1_used(uint64_t raw) { return (raw & qcow2::kOffsetMask) != 0; }

Result<std::vector<uint64_t>> read_active_l1(const qcow2::Image& img) {
  if (!img.walkable()) return Status::Corruption("not read: " + img.walk_status().message());
  return img.read_active_l1();
}

Result<std::vector<uint64_t>> read_reftable(const qcow2::Image& img) {
  if (!img.walkable()) return Status::Corruption("not read: " + img.walk_status().message());
  return img.read_refcount_table();
}

template <size_t N>
void list_fixed(const Fixed (&children)[N], uint32_t snap, uint64_t pos, const Emit& emit) {
  for (uint64_t i = pos; i < N; ++i)
    if (!emit(children[i].name, Node{children[i].kind, snap, 0}, i + 1)) return;
}

template <size_t N>
std::optional<Node> lookup_fixed(const Fixed (&children)[N], uint32_t snap, std::string_view name) {
  for (const Fixed& c : children)
    if (name == c.name) return Node{c.kind, snap, 0};
  return std::nullopt;
}

}  // namespace

Tree::Tree(std::unique_ptr<qcow2::Image> img, bool controls) : img_(std::move(img)), controls_(controls) {
  name_snapshots();
}

std::string Tree::snapshot_l1_problem(uint32_t snap) const {
  const qcow2::Snapshot* s = snapshot(snap);
  if (!s) return "no such snapshot";
  // The check's verdict (a bad pointer, or a table lying in another structure), from the same
  // layout it uses; without a walkable image, the pointer rule alone.
  if (const qcow2::Layout* l = layout()) return l->snapshot_l1(s->index).problem;
  return qcow2::snapshot_l1_problem(*s, img_->geometry(), img_->file_size());
}

const qcow2::Layout* Tree::layout() const {
  std::call_once(layout_.once, [this] {
    if (img_->walkable()) layout_.value.emplace(qcow2::Layout::build(*img_));
  });
  return layout_.value && layout_.value->ok() ? &layout_.value->value() : nullptr;
}

const Result<std::vector<uint64_t>>& Tree::active_l1() const {
  std::call_once(active_l1_.once, [this] { active_l1_.value.emplace(read_active_l1(*img_)); });
  return *active_l1_.value;
}

const Result<std::vector<uint64_t>>& Tree::refcount_table() const {
  std::call_once(reftable_.once, [this] { reftable_.value.emplace(read_reftable(*img_)); });
  return *reftable_.value;
}

void Tree::name_snapshots() {
  const qcow2::Header& h = img_->header();
  const qcow2::SnapshotTable& t = img_->snapshots();
  if (h.nb_snapshots > 0 && !img_->walkable())
    snapshots_error_ = fmt::format("the snapshot table ({} entries) is not read: {}", h.nb_snapshots,
                                   img_->walk_status().message());
  else if (!t.ok())
    snapshots_error_ = fmt::format(
        "the snapshot table is damaged at entry {} of {}: {}; the {} entries before it are shown",
        *t.bad_index, h.nb_snapshots, t.error, t.snapshots.size());
  snap_names_ = snapshot_names(t.snapshots);
  // Slots past kMaxSnapSlot have no inode number (more than QEMU allows): not shown.
  if (snap_names_.size() > kMaxSnapSlot) snap_names_.resize(kMaxSnapSlot);
  for (size_t i = 0; i < snap_names_.size(); ++i)
    snap_by_name_.emplace(snap_names_[i].name, static_cast<uint32_t>(i + 1));
}

const qcow2::Snapshot* Tree::snapshot(uint32_t snap) const {
  const auto& v = img_->snapshots().snapshots;
  return snap >= 1 && snap <= snap_names_.size() ? &v[snap - 1] : nullptr;
}

uint64_t Tree::l1_offset(uint32_t snap) const {
  if (snap == 0) return img_->header().l1_table_offset;
  const qcow2::Snapshot* s = snapshot(snap);
  return s ? s->l1_table_offset : 0;
}

uint64_t Tree::l1_size(uint32_t snap) const {
  if (snap == 0) return active_l1().ok() ? active_l1()->size() : 0;
  const qcow2::Snapshot* s = snapshot(snap);
  return s ? s->l1_size : 0;
}

Result<std::vector<uint64_t>> Tree::l1_slice(uint32_t snap, uint64_t first, uint64_t count) const {
  const uint64_t size = l1_size(snap);
  first = std::min(first, size);
  count = std::min(count, size - first);
  if (snap == 0) {
    const auto& l1 = active_l1();
    if (!l1.ok()) return l1.status();
    return std::vector<uint64_t>(l1->begin() + first, l1->begin() + first + count);
  }
  const qcow2::Snapshot* s = snapshot(snap);
  if (!s) return Status::NotFound(fmt::format("no snapshot in slot {}", snap));
  if (std::string why = snapshot_l1_problem(snap); !why.empty())
    return Status::Corruption(fmt::format("the L1 table of snapshot {} is not read: {}", s->index, why));
  // The layout holds every snapshot's table, decoded once (shared by snapshots naming one).
  const qcow2::Layout* l = layout();
  if (!l) return Status::Corruption("the snapshot L1 tables are not read: the image's tables cannot be read");
  const qcow2::TableVerdict& v = l->snapshot_l1(s->index);
  if (v.table < 0) return std::vector<uint64_t>{};
  const std::vector<uint64_t>& all = l->l1_tables()[static_cast<size_t>(v.table)].entries;
  return std::vector<uint64_t>(all.begin() + static_cast<ptrdiff_t>(first),
                               all.begin() + static_cast<ptrdiff_t>(first + count));
}

Result<std::vector<uint64_t>> Tree::l1_table(uint32_t snap) const {
  return l1_slice(snap, 0, l1_size(snap));
}

const std::unordered_map<uint64_t, Tree::Pointer>& Tree::first_l2_pointers() const {
  std::call_once(first_l2_.once, [this] {
    auto& first = first_l2_.value.emplace();
    const qcow2::Layout* l = layout();
    if (!l) return;
    auto add = [&](uint32_t snap, const std::vector<uint64_t>& l1) {
      for (uint64_t i = 0; i < l1.size(); ++i)
        if (const uint64_t off = l1[i] & qcow2::kOffsetMask) first.try_emplace(off, Pointer{snap, i});
    };
    add(0, l->active_l1().entries);
    // Snapshots naming one L1 table share its decoded copy: each is walked once, for the first.
    std::vector<bool> walked(l->l1_tables().size(), false);
    for (uint32_t slot = 1; slot <= snap_names_.size(); ++slot) {
      const qcow2::TableVerdict& v = l->snapshot_l1(slot - 1);
      if (v.ok() && v.table > 0 && !walked[static_cast<size_t>(v.table)]) {
        walked[static_cast<size_t>(v.table)] = true;
        add(slot, l->l1_tables()[static_cast<size_t>(v.table)].entries);
      }
    }
  });
  return *first_l2_.value;
}

std::string Tree::l2_link(uint32_t snap, uint64_t index) const {
  auto one = l1_slice(snap, index, 1);
  if (!one.ok() || one->size() != 1) return {};
  const uint64_t off = (*one)[0] & qcow2::kOffsetMask;
  const auto& first = first_l2_pointers();
  auto it = first.find(off);
  if (it == first.end() || (it->second.snap == snap && it->second.index == index)) return {};
  const Pointer& p = it->second;
  if (p.snap == snap) return fmt::to_string(p.index);
  if (p.snap == 0) return fmt::format("../../../l2/{}", p.index);
  return fmt::format("../../{}/l2/{}", snapshot_dir_name(p.snap), p.index);
}

bool Tree::l2_exists(uint32_t snap, uint64_t index) const {
  if (index >= l1_size(snap) || index > kMaxIndex) return false;
  if (snap == 0) return l1_used((*active_l1())[index]);  // l1_size() was 0 if it is unread
  auto one = l1_slice(snap, index, 1);
  return one.ok() && one->size() == 1 && l1_used((*one)[0]);
}

void Tree::list_l2(uint32_t snap, uint64_t pos, const Emit& emit) const {
  const uint64_t size = l1_size(snap);
  auto probe = l1_slice(snap, 0, 0);
  if (!probe.ok()) {
    if (pos == 0) emit("ERROR", Node{Kind::kL2Error, snap, 0}, 1);
    return;
  }
  // A chunk at a time from the cookie, so a listing never copies more than one chunk.
  for (uint64_t first = pos; first < std::min(size, kMaxIndex + 1); first += kL1Chunk) {
    auto chunk = l1_slice(snap, first, kL1Chunk);
    if (!chunk.ok()) return;
    for (uint64_t k = 0; k < chunk->size(); ++k) {
      if (!l1_used((*chunk)[k])) continue;
      const uint64_t i = first + k;
      if (i > kMaxIndex) return;
      if (!emit(fmt::to_string(i), Node{Kind::kL2, snap, i}, i + 1)) return;
    }
  }
}

bool Tree::is_dir(const Node& n) {
  switch (n.kind) {
    case Kind::kRoot:
    case Kind::kExtensionsDir:
    case Kind::kSnapshotsDir:
    case Kind::kSnapshotDir:
    case Kind::kL2Dir:
    case Kind::kRefcountDir:
    case Kind::kCtlDir: return true;
    default: return false;
  }
}

bool Tree::exists(const Node& n) const {
  const auto& ext = img_->extensions().all;
  switch (n.kind) {
    case Kind::kExtension:
      return n.snap == 0 && n.index < ext.size() && qcow2::extension_has_file(ext[n.index]);
    case Kind::kSnapshotsError: return n.snap == 0 && n.index == 0 && !snapshots_error_.empty();
    case Kind::kSnapshotDir:
    case Kind::kSnapshotInfo: return n.index == 0 && snapshot(n.snap) != nullptr;
    case Kind::kL1:
    case Kind::kL2Dir: return n.index == 0 && (n.snap == 0 || snapshot(n.snap) != nullptr);
    case Kind::kL2: return (n.snap == 0 || snapshot(n.snap)) && l2_exists(n.snap, n.index);
    case Kind::kL2Error:
      return n.index == 0 && (n.snap == 0 || snapshot(n.snap)) && !l1_slice(n.snap, 0, 0).ok();
    case Kind::kRefBlock: {
      const auto& table = refcount_table();
      return n.snap == 0 && table.ok() && n.index < table->size() && n.index <= kMaxIndex &&
             qcow2::decode_reftable_entry((*table)[n.index], img_->geometry()).used();
    }
    case Kind::kCtlFile: return controls_ && n.snap == 0 && n.index < kCtlFileCount;
    default: return n.snap == 0 && n.index == 0;
  }
}

Node Tree::parent(const Node& n) const {
  switch (n.kind) {
    case Kind::kExtension: return {Kind::kExtensionsDir, 0, 0};
    case Kind::kSnapshotsError:
    case Kind::kSnapshotDir: return {Kind::kSnapshotsDir, 0, 0};
    case Kind::kSnapshotInfo: return {Kind::kSnapshotDir, n.snap, 0};
    case Kind::kL1:
    case Kind::kL2Dir: return n.snap ? Node{Kind::kSnapshotDir, n.snap, 0} : Node{};
    case Kind::kL2:
    case Kind::kL2Error: return {Kind::kL2Dir, n.snap, 0};
    case Kind::kRefTable:
    case Kind::kRefBlock: return {Kind::kRefcountDir, 0, 0};
    case Kind::kCtlReadme:
    case Kind::kCtlFile: return {Kind::kCtlDir, 0, 0};
    default: return {};
  }
}

std::string Tree::name_of(const Node& n) const {
  auto fixed = [&](const auto& children) -> std::string {
    for (const Fixed& c : children)
      if (c.kind == n.kind) return c.name;
    return {};
  };
  const auto& ext = img_->extensions().all;
  switch (n.kind) {
    case Kind::kRoot: return {};
    case Kind::kExtension: return n.index < ext.size() ? qcow2::extension_file_name(ext[n.index], n.index) : "";
    case Kind::kSnapshotsError:
    case Kind::kL2Error: return "ERROR";
    case Kind::kSnapshotDir: return snapshot(n.snap) ? snapshot_dir_name(n.snap) : "";
    case Kind::kL2:
    case Kind::kRefBlock: return fmt::to_string(n.index);
    case Kind::kRefTable: return "table";
    case Kind::kCtlReadme: return "README";
    case Kind::kCtlFile: return ctl_file_name(n.index);
    default: return n.snap ? fixed(kSnapshotChildren) : fixed(kRootChildren);
  }
}

std::optional<Node> Tree::lookup(const Node& dir, std::string_view name) const {
  switch (dir.kind) {
    case Kind::kRoot: return lookup_fixed(kRootChildren, 0, name);
    case Kind::kSnapshotDir: return lookup_fixed(kSnapshotChildren, dir.snap, name);
    case Kind::kExtensionsDir: {
      const auto index = parse_index(name.substr(0, name.find('-')));
      const auto& ext = img_->extensions().all;
      if (!index || *index >= ext.size() || !qcow2::extension_has_file(ext[*index]) ||
          qcow2::extension_file_name(ext[*index], *index) != name)
        return std::nullopt;
      return Node{Kind::kExtension, 0, *index};
    }
    case Kind::kSnapshotsDir: {
      if (name == "ERROR" && !snapshots_error_.empty()) return Node{Kind::kSnapshotsError, 0, 0};
      auto it = snap_by_name_.find(std::string(name));
      if (it == snap_by_name_.end()) return std::nullopt;
      return Node{Kind::kSnapshotDir, it->second, 0};
    }
    case Kind::kL2Dir: {
      const Node error{Kind::kL2Error, dir.snap, 0};
      if (name == "ERROR") return exists(error) ? std::optional<Node>(error) : std::nullopt;
      const auto index = parse_index(name);
      if (!index || !l2_exists(dir.snap, *index)) return std::nullopt;
      return Node{Kind::kL2, dir.snap, *index};
    }
    case Kind::kRefcountDir: {
      if (name == "table") return Node{Kind::kRefTable, 0, 0};
      const auto index = parse_index(name);
      const Node block{Kind::kRefBlock, 0, index.value_or(0)};
      if (!index || !exists(block)) return std::nullopt;
      return block;
    }
    case Kind::kCtlDir: {
      if (name == "README") return Node{Kind::kCtlReadme, 0, 0};
      const auto index = controls_ ? ctl_file_index(name) : std::nullopt;
      if (!index) return std::nullopt;
      return Node{Kind::kCtlFile, 0, *index};
    }
    default: return std::nullopt;
  }
}

void Tree::list(const Node& dir, uint64_t pos, const Emit& emit) const {
  switch (dir.kind) {
    case Kind::kRoot: list_fixed(kRootChildren, 0, pos, emit); return;
    case Kind::kSnapshotDir: list_fixed(kSnapshotChildren, dir.snap, pos, emit); return;
    case Kind::kExtensionsDir: {
      const auto& ext = img_->extensions().all;
      for (uint64_t i = pos; i < ext.size(); ++i) {
        if (!qcow2::extension_has_file(ext[i])) continue;
        if (!emit(qcow2::extension_file_name(ext[i], i), Node{Kind::kExtension, 0, i}, i + 1)) return;
      }
      return;
    }
    case Kind::kSnapshotsDir: {
      // Position 0 is ERROR; position s is snapshot slot s.
      if (pos == 0 && !snapshots_error_.empty() && !emit("ERROR", Node{Kind::kSnapshotsError, 0, 0}, 1))
        return;
      for (uint64_t s = std::max<uint64_t>(pos, 1); s <= snap_names_.size(); ++s)
        if (!emit(snap_names_[s - 1].name, Node{Kind::kSnapshotDir, static_cast<uint32_t>(s), 0}, s + 1)) return;
      return;
    }
    case Kind::kL2Dir: list_l2(dir.snap, pos, emit); return;
    case Kind::kRefcountDir: {
      // Position 0 is `table`; position i + 1 is refcount block i.
      if (pos == 0 && !emit("table", Node{Kind::kRefTable, 0, 0}, 1)) return;
      const auto& table = refcount_table();
      if (!table.ok()) return;
      for (uint64_t i = std::max<uint64_t>(pos, 1) - 1; i < table->size(); ++i) {
        const Node block{Kind::kRefBlock, 0, i};
        if (!exists(block)) continue;
        if (!emit(fmt::to_string(i), block, i + 2)) return;
      }
      return;
    }
    case Kind::kCtlDir:
      // Position 0 is README; position i + 1 is control file i.
      if (pos == 0 && !emit("README", Node{Kind::kCtlReadme, 0, 0}, 1)) return;
      if (!controls_) return;
      for (uint64_t i = std::max<uint64_t>(pos, 1) - 1; i < kCtlFileCount; ++i)
        if (!emit(ctl_file_name(i), Node{Kind::kCtlFile, 0, i}, i + 2)) return;
      return;
    default: return;
  }
}

}  // namespace qcow2fs
