#include "engine/render/table_text.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/render/column_text.h"
#include "engine/walk/table_walk.h"

namespace qcow2 {
namespace {

// Appends "list,item" to a comma list.
void add(std::string& list, std::string_view item) {
  if (!list.empty()) list += ',';
  list += item;
}

std::string l1_status(const L1Entry& e, const Geometry& g, uint64_t file_size, const ClaimMap& claims) {
  std::string s;
  if (!e.used()) {
    s = "unused";
  } else if (e.unaligned) {
    s = "unaligned";
  } else if (!inside_file(e.l2_offset, g.cluster_size, file_size)) {
    s = "past-eof";
  } else if (claims.overlapping(e.l2_offset, g.cluster_size)) {
    s = "cross-link";
  }
  if (e.reserved) add(s, "reserved");
  return s.empty() ? "ok" : s;
}

// The flags column as a comma list, "-" when empty.
void l2_flags(Line& s, const L2Entry& e, const Geometry& g, uint64_t file_size, bool vm_state) {
  auto add = [&s](std::string_view item) {
    if (s.size()) s.put(',');
    s.put(item);
  };
  if (e.copied) add("COPIED");
  if (e.zero_flag) add("ZERO");
  if (e.kind == L2Kind::kCompressed) {
    add("COMPRESSED");
    add("bytes=");
    s.put(fmt::format_int(e.comp_length).c_str());
  }
  if (e.reserved) {
    add("reserved=");
    s.hex(e.reserved, 0);
  }
  const bool has_host = e.kind == L2Kind::kNormal || e.kind == L2Kind::kZeroAlloc;
  if (has_host && e.unaligned) add("unaligned");
  // Data in an external data file cannot be checked against this file's size.
  if (has_host && !e.unaligned && !g.external_data) {
    const Placement p = data_placement(e, g, file_size);
    if (p == Placement::kPastEof) add("past-eof");
    if (p == Placement::kCut) add("cut-by-eof");
  }
  if (vm_state) add("vm-state");
  if (!s.size()) s.put('-');
}

// The host column: a hex offset, or "-" when the entry has no host cluster.
void host_column(Line& line, const L2Entry& e) {
  switch (e.kind) {
    case L2Kind::kNormal:
    case L2Kind::kZeroAlloc: line.hex(e.host_offset, 18); return;
    case L2Kind::kCompressed: line.hex(e.comp_offset, 18); return;
    default: line.left("-", 18); return;
  }
}

}  // namespace

void render_l1_table(const Image& img, const ClaimMap& claims, uint64_t l1_offset, std::span<const uint64_t> l1,
                     const FindingIndex* findings, TextSink& out) {
  const Geometry& g = img.geometry();
  out.print("{:<8} {:<18} {:<18} {:<6} {}\n", "# index", "raw", "l2_offset", "flags", "status finding");
  std::string chunk;  // handed to `out` every 64 KiB
  for (uint64_t i = 0; i < l1.size(); ++i) {
    const L1Entry e = decode_l1_entry(l1[i], g);
    const uint64_t at = l1_offset + i * 8;
    const std::string finding = findings ? findings->text(at, at + 8) : std::string();
    Line line;
    line.right(i, 8);
    line.hex(e.raw, 18);
    line.hex(e.l2_offset, 18);
    line.left(e.copied ? "COPIED" : "-", 6);
    const std::string status = l1_status(e, g, img.file_size(), claims);
    if (finding.empty())
      line.put(status);
    else
      line.left(status, 10);
    chunk.append(line.view());
    chunk.append(finding);
    chunk.push_back('\n');
    if (chunk.size() >= (64u << 10)) {
      out.write(chunk);
      chunk.clear();
    }
  }
  out.write(chunk);
}

void render_l2_table(const Image& img, uint64_t l1_index, uint64_t table_offset, std::span<const uint8_t> table,
                     const FindingIndex* findings, TextSink& out) {
  const Geometry& g = img.geometry();
  if (g.extended_l2)
    out.print("{:>7} {:<18} {:<10} {:<10} {:<18} {:<11} {:<24} {}\n", "# index", "raw", "alloc",
              "zero", "host_offset", "kind", "flags", "guest_offset finding");
  else
    out.print("{:>7} {:<18} {:<18} {:<11} {:<24} {}\n", "# index", "raw", "host_offset", "kind",
              "flags", "guest_offset finding");
  std::string chunk;  // handed to `out` every 64 KiB
  for (uint64_t j = 0; j < g.l2_entries; ++j) {
    const L2Entry e = l2_entry_at(table, j, g);
    if (e.raw == 0 && e.bitmap == 0) continue;
    const uint64_t guest = g.guest_offset(l1_index, j);
    const uint64_t at = table_offset + j * g.l2_entry_bytes;
    Line line;
    line.right(j, 7);
    line.hex(e.raw, 18);
    if (g.extended_l2) {
      line.mask(e.alloc_mask());
      line.mask(e.zero_mask());
    }
    host_column(line, e);
    line.left(l2_kind_name(e.kind), 11);
    Line flags;
    l2_flags(flags, e, g, img.file_size(), guest >= img.header().size);
    line.left(flags.view(), 24);
    const std::string finding = findings ? findings->text(at, at + g.l2_entry_bytes) : std::string();
    line.hex(guest, finding.empty() ? 0 : 18);
    chunk.append(line.view());
    if (!finding.empty()) chunk.append(finding);
    chunk.push_back('\n');
    if (chunk.size() >= (64u << 10)) {
      out.write(chunk);
      chunk.clear();
    }
  }
  out.write(chunk);
}

}  // namespace qcow2
