#include "engine/render/table_text.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"
#include "engine/render/column_text.h"
#include "engine/walk/table_walk.h"

namespace qcow2 {
namespace {

using Buf = fmt::memory_buffer;

// Appends "list,item" to a comma list.
void add(std::string& list, std::string_view item) {
  if (!list.empty()) list += ',';
  list += item;
}

// The last fixed column and the free-text finding: no trailing blanks when there is none.
void finish_line(Buf& b, std::string_view last, size_t width, const std::string& finding) {
  auto it = std::back_inserter(b);
  if (finding.empty())
    fmt::format_to(it, "{}\n", last);
  else
    fmt::format_to(it, "{:<{}} {}\n", last, width, finding);
}

std::string l1_status(const L1Entry& e, const Geometry& g, uint64_t file_size) {
  std::string s;
  if (!e.used()) {
    s = "unused";
  } else if (e.unaligned) {
    s = "unaligned";
  } else if (e.l2_offset > file_size || g.cluster_size > file_size - e.l2_offset) {
    s = "past-eof";
  }
  if (e.reserved) add(s, "reserved");
  return s.empty() ? "ok" : s;
}

std::string l2_flags(const L2Entry& e, const Geometry& g, uint64_t file_size, bool vm_state) {
  std::string s;
  if (e.copied) add(s, "COPIED");
  if (e.zero_flag) add(s, "ZERO");
  if (e.kind == L2Kind::kCompressed) {
    add(s, "COMPRESSED");
    add(s, fmt::format("bytes={}", e.comp_length));
  }
  if (e.reserved) add(s, fmt::format("reserved={}", hex_value(e.reserved)));
  const bool has_host = e.kind == L2Kind::kNormal || e.kind == L2Kind::kZeroAlloc;
  if (has_host && e.unaligned) add(s, "unaligned");
  // Data in an external data file cannot be checked against this file's size.
  if (has_host && !g.external_data &&
      (e.host_offset > file_size || g.cluster_size > file_size - e.host_offset))
    add(s, "past-eof");
  if (vm_state) add(s, "vm-state");
  return s.empty() ? "-" : s;
}

std::string host_column(const L2Entry& e) {
  switch (e.kind) {
    case L2Kind::kNormal:
    case L2Kind::kZeroAlloc: return hex_value(e.host_offset);
    case L2Kind::kCompressed: return hex_value(e.comp_offset);
    default: return "-";
  }
}

}  // namespace

void render_l1_table(const Image& img, uint64_t l1_offset, std::span<const uint64_t> l1,
                     const FindingIndex* findings, TextSink& out) {
  const Geometry& g = img.geometry();
  out.print("{:>8} {:<18} {:<18} {:<6} {}\n", "# index", "raw", "l2_offset", "flags", "status finding");
  for (uint64_t i = 0; i < l1.size(); ++i) {
    const L1Entry e = decode_l1_entry(l1[i], g);
    const uint64_t at = l1_offset + i * 8;
    Buf b;
    fmt::format_to(std::back_inserter(b), "{:>8} {:<18} {:<18} {:<6} ", i, hex_value(e.raw),
                   hex_value(e.l2_offset), e.copied ? "COPIED" : "-");
    finish_line(b, l1_status(e, g, img.file_size()), 10, findings ? findings->text(at, at + 8) : "");
    out.write(std::string_view(b.data(), b.size()));
  }
}

void render_l2_table(const Image& img, uint64_t l1_index, uint64_t l1_raw,
                     const FindingIndex* findings, TextSink& out) {
  const Geometry& g = img.geometry();
  const L1Entry l1e = decode_l1_entry(l1_raw, g);
  if (!l1e.used()) {
    out.write(error_line(fmt::format("L1 entry {} (0x{:x}) points at no L2 table", l1_index, l1_raw)));
    return;
  }
  if (const std::string why = l2_pointer_problem(l1e, g, img.file_size()); !why.empty()) {
    out.write(error_line(fmt::format("L1 entry {} (0x{:x}): {}: the table is not read", l1_index,
                                     l1_raw, why)));
    return;
  }
  std::vector<uint8_t> table;
  if (Status st = img.read_cluster(l1e.l2_offset, table); !st.ok()) {
    out.write(error_line(fmt::format("L2 table at 0x{:x}: {}", l1e.l2_offset, st.message())));
    return;
  }
  if (g.extended_l2)
    out.print("{:>7} {:<18} {:<10} {:<10} {:<18} {:<11} {:<24} {}\n", "# index", "raw", "alloc",
              "zero", "host_offset", "kind", "flags", "guest_offset finding");
  else
    out.print("{:>7} {:<18} {:<18} {:<11} {:<24} {}\n", "# index", "raw", "host_offset", "kind",
              "flags", "guest_offset finding");
  for (uint64_t j = 0; j < g.l2_entries; ++j) {
    const L2Entry e = l2_entry_at(table, j, g);
    if (e.raw == 0 && e.bitmap == 0) continue;
    const uint64_t guest = g.guest_offset(l1_index, j);
    const uint64_t at = l1e.l2_offset + j * g.l2_entry_bytes;
    Buf b;
    auto it = std::back_inserter(b);
    fmt::format_to(it, "{:>7} {:<18} ", j, hex_value(e.raw));
    if (g.extended_l2)
      fmt::format_to(it, "0x{:08x} 0x{:08x} ", e.alloc_mask(), e.zero_mask());
    fmt::format_to(it, "{:<18} {:<11} {:<24} ", host_column(e), l2_kind_name(e.kind),
                   l2_flags(e, g, img.file_size(), guest >= img.header().size));
    finish_line(b, hex_value(guest), 18, findings ? findings->text(at, at + g.l2_entry_bytes) : "");
    out.write(std::string_view(b.data(), b.size()));
  }
}

}  // namespace qcow2
