#include "engine/render/refcount_text.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/render/column_text.h"

namespace qcow2 {
namespace {

bool past_eof(uint64_t offset, uint64_t cluster_size, uint64_t file_size) {
  return offset > file_size || cluster_size > file_size - offset;
}

std::string table_status(const RefTableEntry& e, const Geometry& g, uint64_t file_size) {
  std::string s;
  if (!e.used())
    s = "unused";
  else if (e.unaligned)
    s = "unaligned";
  else if (past_eof(e.block_offset, g.cluster_size, file_size))
    s = "past-eof";
  if (e.reserved) s += s.empty() ? "reserved" : ",reserved";
  return s.empty() ? "ok" : s;
}

}  // namespace

void render_refcount_table(const Image& img, std::span<const uint64_t> table,
                           const FindingIndex* findings, TextSink& out) {
  const Geometry& g = img.geometry();
  const uint64_t base = img.header().refcount_table_offset;
  out.print("{:<8} {:<18} {:<18} {}\n", "# index", "raw", "block_offset", "status finding");
  for (uint64_t i = 0; i < table.size(); ++i) {
    // The table is padded to whole clusters with zero entries that say nothing.
    if (table[i] == 0) continue;
    const RefTableEntry e = decode_reftable_entry(table[i], g);
    const std::string status = table_status(e, g, img.file_size());
    const std::string finding = findings ? findings->text(base + i * 8, base + i * 8 + 8) : "";
    Line line;
    line.right(i, 8);
    line.hex(e.raw, 18);
    line.hex(e.block_offset, 18);
    if (finding.empty())
      line.put(status);
    else
      line.left(status, 10);
    out.print("{}{}\n", line.view(), finding);
  }
}

void render_refcount_block(const Image& img, uint64_t index, uint64_t raw,
                           const RefCounter* counts, TextSink& out) {
  const Geometry& g = img.geometry();
  const RefTableEntry e = decode_reftable_entry(raw, g);
  if (!e.used()) {
    out.write(error_line(fmt::format("refcount table entry {} (0x{:x}) points at no block", index, raw)));
    return;
  }
  if (e.unaligned || past_eof(e.block_offset, g.cluster_size, img.file_size())) {
    out.write(error_line(fmt::format("refcount table entry {} (0x{:x}): block offset 0x{:x} is {}: "
                                     "the block is not read",
                                     index, raw, e.block_offset,
                                     e.unaligned ? "not cluster aligned" : "past the end of the file")));
    return;
  }
  std::vector<uint8_t> block;
  if (Status st = img.read_cluster(e.block_offset, block); !st.ok()) {
    out.write(error_line(fmt::format("refcount block at 0x{:x}: {}", e.block_offset, st.message())));
    return;
  }
  const uint64_t file_clusters = (img.file_size() + g.cluster_size - 1) >> g.cluster_bits;
  const uint64_t first = index << g.refblock_bits;
  out.print("{:<10} {:<18} {:>8} {:>8} {}\n", "# cluster", "host_offset", "refcount", "computed", "mark");
  std::string chunk;  // handed to `out` every 64 KiB
  for (uint64_t j = 0; j < g.refblock_entries; ++j) {
    const uint64_t c = first + j;
    const uint64_t rc = refcount_at(block, j, g.refcount_order);
    const uint64_t refs = counts && c < counts->clusters() ? counts->get(c) : 0;
    if (c >= file_clusters && rc == 0 && refs == 0) continue;
    Line line;
    line.right(c, 10);
    line.hex(c << g.cluster_bits, 18);
    line.right(rc, 8);
    if (!counts) {
      line.put("       - -");
    } else {
      line.right(refs, 8);
      line.put(rc > refs ? "leak" : rc < refs ? "error" : "ok");
    }
    line.put('\n');
    chunk.append(line.view());
    if (chunk.size() >= (64u << 10)) {
      out.write(chunk);
      chunk.clear();
    }
  }
  out.write(chunk);
}

}  // namespace qcow2
