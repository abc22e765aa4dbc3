#include "engine/render/refcount_text.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/render/column_text.h"

namespace qcow2 {
namespace {

std::string table_status(Layout::Block b, const RefTableEntry& e) {
  switch (b) {
    case Layout::Block::kOk: return "ok";
    case Layout::Block::kUnused: return e.reserved ? "unused,reserved" : "unused";
    case Layout::Block::kReservedBits: return "reserved";
    case Layout::Block::kUnaligned: return "unaligned";
    case Layout::Block::kPastEof: return "past-eof";
    case Layout::Block::kCrossLink: return "cross-link";
  }
  return "?";
}

}  // namespace

void render_refcount_table(const Image& img, const Layout& layout, const FindingIndex* findings, TextSink& out) {
  const std::vector<uint64_t>& table = layout.reftable();
  const Geometry& g = img.geometry();
  const uint64_t base = img.header().refcount_table_offset;
  out.print("{:<8} {:<18} {:<18} {}\n", "# index", "raw", "block_offset", "status finding");
  for (uint64_t i = 0; i < table.size(); ++i) {
    // The table is padded to whole clusters with zero entries that say nothing.
    if (table[i] == 0) continue;
    const RefTableEntry e = decode_reftable_entry(table[i], g);
    const std::string status = table_status(layout.block(i), e);
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

void render_refcount_block(const Image& img, uint64_t index, std::span<const uint8_t> block,
                           const RefCounter* counts, TextSink& out) {
  const Geometry& g = img.geometry();
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
