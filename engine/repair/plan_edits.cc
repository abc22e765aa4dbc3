#include "engine/repair/plan_edits.h"

#include <fmt/format.h>

#include "engine/check/layout.h"
#include "engine/format/extent.h"
#include "engine/format/header.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/format/refcount.h"
#include "engine/io/image_file.h"
#include "engine/repair/role_index.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

constexpr uint64_t kIncompatOffset = 72;

// A field the user named: where it is and what it may hold.
struct NamedField {
  uint64_t offset = 0;
  unsigned width = 8;
  uint64_t mask = ~0ULL;
  unsigned shift = 0;  // where a value goes in the field (sub-byte refcounts)
  Role role = Role::kHeader;
  std::string name;
};

Result<uint64_t> index_word(const std::vector<std::string>& f, size_t i, const char* what) {
  if (i >= f.size()) return Status::InvalidArgument(fmt::format("{} needs {}", f[0], what));
  if (auto v = parse_number(f[i])) return *v;
  return Status::InvalidArgument(fmt::format("{} '{}' is not a number", what, f[i]));
}

Result<NamedField> resolve(const Image& img, const CheckResult& check, const std::vector<std::string>& f) {
  const Header& h = img.header();
  NamedField out;
  out.name = f[0];
  for (size_t i = 1; i < f.size(); ++i) out.name += " " + f[i];
  if (f[0].rfind("header.", 0) == 0) {
    if (f.size() != 1) return Status::InvalidArgument(fmt::format("{} takes no index", f[0]));
    const std::string name = f[0].substr(7);
    for (const HeaderField& hf : header_fields(h)) {
      if (name != hf.name) continue;
      if (!hf.present)
        return Status::NotFound(fmt::format("this version {} header has no field {}", h.version, name));
      out.offset = hf.offset;
      out.width = hf.size;
      out.mask = hf.size == 8 ? ~0ULL : (1ULL << (8 * hf.size)) - 1;
      return out;
    }
    return Status::NotFound(fmt::format("no header field '{}' (see qcow2-dump -H)", name));
  }
  if (!img.walkable() || !check.layout)
    return Status::InvalidArgument("the image cannot be walked: only header fields and offsets can be patched");
  const Geometry& g = img.geometry();
  const Layout& layout = *check.layout;
  const unsigned words = f[0] == "l1" || f[0] == "reftable" || f[0] == "refcount" ? 2 : f[0] == "l2" ? 3 : 0;
  if (words == 0)
    return Status::InvalidArgument(
        fmt::format("unknown field '{}': header.NAME, l1 I, l2 I J, reftable I or refcount CLUSTER", f[0]));
  if (f.size() != words) return Status::InvalidArgument(fmt::format("{} takes {} index(es)", f[0], words - 1));
  QCOW2_ASSIGN_OR_RETURN(const uint64_t i, index_word(f, 1, "an index"));
  if (f[0] == "l1") {
    if (i >= h.l1_size) return Status::NotFound(fmt::format("the active L1 table has {} entries", h.l1_size));
    out.offset = h.l1_table_offset + 8 * i;
    out.role = Role::kL1;
    return out;
  }
  if (f[0] == "l2") {
    QCOW2_ASSIGN_OR_RETURN(const uint64_t j, index_word(f, 2, "an entry index"));
    const std::vector<uint64_t>& l1 = layout.active_l1().entries;
    if (i >= l1.size()) return Status::NotFound(fmt::format("the active L1 table has {} entries", l1.size()));
    const uint64_t table = l1[i] & kOffsetMask;
    if (table == 0) return Status::NotFound(fmt::format("active L1 entry {} names no L2 table", i));
    if (!is_aligned(table, g.cluster_size) || !inside_file(table, g.cluster_size, img.file_size()))
      return Status::NotFound(fmt::format("active L1 entry {} names no L2 table inside the file (0x{:x})", i, table));
    if (j >= g.l2_entries) return Status::NotFound(fmt::format("an L2 table has {} entries", g.l2_entries));
    out.offset = table + j * g.l2_entry_bytes;
    out.role = Role::kL2;
    return out;
  }
  if (f[0] == "reftable") {
    const uint64_t n = (uint64_t{h.refcount_table_clusters} << g.cluster_bits) / 8;
    if (i >= n) return Status::NotFound(fmt::format("the refcount table has {} entries", n));
    out.offset = h.refcount_table_offset + 8 * i;
    out.role = Role::kRefTable;
    return out;
  }
  // refcount CLUSTER
  const uint64_t ti = i >> g.refblock_bits;
  if (!layout.block_ok(ti))
    return Status::NotFound(fmt::format("no refcount block describes cluster {} (refcount table entry {}{}{})", i, ti,
                                        layout.block_problem(ti).empty() ? "" : ": ", layout.block_problem(ti)));
  const RefcountField rf = refcount_field(layout.reftable()[ti] & ~kRefTableReservedMask, i & (g.refblock_entries - 1),
                                          g.refcount_order);
  out.offset = rf.offset;
  out.width = rf.width;
  out.mask = rf.mask;
  out.shift = rf.shift;
  out.role = Role::kRefBlock;
  return out;
}

// The role and risk of user-named bytes: whatever the check found there.
Result<Role> role_for(const Image& img, const CheckResult& check, uint64_t offset, uint64_t bytes) {
  if (!img.walkable()) {
    if (offset + bytes <= 512) return Role::kHeader;
    return Role::kData;  // unknown: treated as the most careful would
  }
  const RoleIndex roles(check, img.geometry().cluster_bits);
  if (auto r = roles.role_of(offset, bytes)) return *r;
  const std::vector<Role> at = roles.roles_at(offset >> img.geometry().cluster_bits);
  if (!at.empty()) return at.front();
  return Status::InvalidArgument(fmt::format("the bytes at 0x{:x} span structures of different roles: patch them "
                                             "one structure at a time",
                                             offset));
}

Risk risk_of(Role r) { return is_metadata(r) ? Risk::kRisky : Risk::kDestructive; }

}  // namespace

Status plan_feature_bit(PlanBuilder& b, const CheckResult&, const RepairCommand& cmd) {
  const Header& h = b.image().header();
  const uint64_t bit = cmd.bit == "dirty" ? kIncompatDirty : kIncompatCorrupt;
  const bool set = cmd.kind == RepairKind::kSetBit;
  if (h.version < 3) {
    if (set)
      return Status::InvalidArgument(fmt::format("a version 2 header has no incompatible_features field (byte 72 begins "
                                                 "its header extensions): the {} bit cannot be set",
                                                 cmd.bit));
    b.plan().skipped.push_back(fmt::format("a version 2 header has no {} bit: nothing to clear", cmd.bit));
    return Status::Ok();
  }
  QCOW2_ASSIGN_OR_RETURN(const bool changed,
                         b.set_bits(kIncompatOffset, 8, bit, set ? bit : 0, Role::kHeader,
                                    set ? "set-bit" : "clear-bit",
                                    fmt::format("{} the {} bit of incompatible_features", set ? "set" : "clear", cmd.bit),
                                    set ? Risk::kSafe : Risk::kRisky));
  if (!changed) b.plan().skipped.push_back(fmt::format("the {} bit is already {}", cmd.bit, set ? "set" : "clear"));
  return Status::Ok();
}

Status plan_patch(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  const Image& img = b.image();
  NamedField nf;
  if (!cmd.field.empty()) {
    QCOW2_ASSIGN_OR_RETURN(nf, resolve(img, check, cmd.field));
  } else {
    nf.offset = cmd.offset;
    nf.width = cmd.width;
    nf.mask = cmd.width == 8 ? ~0ULL : (1ULL << (8 * cmd.width)) - 1;
    nf.name = fmt::format("{} bytes at 0x{:x}", cmd.width, cmd.offset);
    if (!inside_file(cmd.offset, cmd.width, img.file_size()))
      return Status::InvalidArgument(
          fmt::format("0x{:x} + {} lies past the end of the file ({} bytes)", cmd.offset, cmd.width, img.file_size()));
    QCOW2_ASSIGN_OR_RETURN(nf.role, role_for(img, check, nf.offset, nf.width));
  }
  const uint64_t limit = nf.mask >> nf.shift;
  if (cmd.value > limit)
    return Status::InvalidArgument(fmt::format("{} holds at most 0x{:x}; 0x{:x} does not fit", nf.name, limit, cmd.value));
  if (!inside_file(nf.offset, nf.width, img.file_size()))
    return Status::NotFound(fmt::format("{} lies at 0x{:x}, past the end of the file", nf.name, nf.offset));
  std::vector<uint8_t> old(nf.width);
  QCOW2_RETURN_IF_ERROR(img.file().read(nf.offset, old));
  const uint64_t now = load_be(old.data(), nf.width);
  const uint64_t next = (now & ~nf.mask) | ((cmd.value << nf.shift) & nf.mask);
  if (next == now) {
    b.plan().skipped.push_back(fmt::format("{} already holds 0x{:x}", nf.name, cmd.value));
    return Status::Ok();
  }
  return b.replace(nf.offset, be_bytes(next, nf.width), nf.role, "patch",
                   fmt::format("{}: 0x{:x} -> 0x{:x}", nf.name, (now & nf.mask) >> nf.shift, cmd.value),
                   risk_of(nf.role), true);
}

Status plan_copy(PlanBuilder& b, const CheckResult& check, const RepairCommand& cmd) {
  const Image& img = b.image();
  const uint64_t max = img.walkable() ? img.geometry().cluster_size : 65536;
  if (cmd.length == 0 || cmd.length > max)
    return Status::InvalidArgument(fmt::format("a copy is 1 to {} bytes (one cluster)", max));
  if (!inside_file(cmd.offset, cmd.length, img.file_size()))
    return Status::InvalidArgument(fmt::format("the destination 0x{:x} + {} lies past the end of the file", cmd.offset,
                                               cmd.length));
  std::vector<uint8_t> bytes(cmd.length);
  if (cmd.source_file.empty()) {
    if (!inside_file(cmd.source, cmd.length, img.file_size()))
      return Status::InvalidArgument(fmt::format("the source 0x{:x} + {} lies past the end of the file", cmd.source,
                                                 cmd.length));
    QCOW2_RETURN_IF_ERROR(img.file().read(cmd.source, bytes));
  } else {
    QCOW2_ASSIGN_OR_RETURN(ImageFile src, ImageFile::open_read_only(cmd.source_file));
    if (!inside_file(cmd.source, cmd.length, src.size()))
      return Status::InvalidArgument(fmt::format("{}: 0x{:x} + {} lies past its end ({} bytes)", cmd.source_file,
                                                 cmd.source, cmd.length, src.size()));
    QCOW2_RETURN_IF_ERROR(src.read(cmd.source, bytes));
  }
  QCOW2_ASSIGN_OR_RETURN(const Role role, role_for(img, check, cmd.offset, cmd.length));
  return b.replace(cmd.offset, std::move(bytes), role, "copy",
                   fmt::format("{} bytes from 0x{:x} of {}", cmd.length, cmd.source,
                               cmd.source_file.empty() ? "the image" : cmd.source_file),
                   risk_of(role), true);
}

}  // namespace qcow2
