// The refcount half of `-m dump` (declared in dump_text.h).
#include <fmt/format.h>

#include <iterator>

#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/render/dump_text.h"

namespace qcow2 {
namespace {

struct TableCounters {
  uint64_t unaligned = 0, invalid = 0, reserved = 0, unused = 0, used = 0;
};

// Why a refcount block pointer is not followed (the layout's verdict, in a word), or empty.
std::string block_problem(const Layout& layout, uint64_t index, const RefTableEntry& e) {
  switch (layout.block(index)) {
    case Layout::Block::kOk: return {};
    case Layout::Block::kUnused: return fmt::format("reserved bits 0x{:x}, no block", e.reserved);
    case Layout::Block::kReservedBits: return fmt::format("reserved bits 0x{:x}", e.reserved);
    case Layout::Block::kUnaligned: return "unaligned";
    case Layout::Block::kPastEof: return "invalid: past end of file";
    case Layout::Block::kCrossLink: return "invalid: cross-linked, not read";
  }
  return {};
}

void dump_block(const std::vector<uint8_t>& block, uint64_t table_index, const Geometry& g,
                const Style& st, TextSink& out) {
  uint64_t used = 0;
  for (uint64_t j = 0; j < g.refblock_entries; ++j) {
    const uint64_t r = refcount_at(block, j, g.refcount_order);
    if (r == 0) continue;
    ++used;
    const uint64_t cluster = (table_index << g.refblock_bits) + j;
    out.print("    refcount block[{:5}], refcount: {} | cluster[{}] offset: 0x{:x}\n", j, r, cluster,
              cluster << g.cluster_bits);
  }
  out.print("    {}Refcount: unused: {}, used: {}{}\n", st.counter(), g.refblock_entries - used, used,
            st.reset());
}

}  // namespace

Status render_refcount_dump(const Image& img, const Layout& layout, const DumpOptions& opt, const Style& st,
                            TextSink& out) {
  const Header& h = img.header();
  const Geometry& g = img.geometry();
  const uint64_t entries = uint64_t{h.refcount_table_clusters} * g.cluster_size / 8;
  out.print("{}Refcount Table: [offset: 0x{:x}, len: {}]{}\n", st.section(),
            h.refcount_table_offset, entries, st.reset());
  const std::vector<uint64_t>* table = &layout.reftable();
  TableCounters c;
  std::vector<uint8_t> block;
  for (uint64_t i = 0; i < table->size(); ++i) {
    const RefTableEntry e = decode_reftable_entry((*table)[i], g);
    if (e.raw == 0) {
      ++c.unused;
      continue;
    }
    fmt::memory_buffer b;
    auto it = std::back_inserter(b);
    fmt::format_to(it, "refcount table[{:4}], offset: 0x{:x}", i, e.block_offset);
    if (opt.flags) fmt::format_to(it, " [0x{:x}]", e.raw);
    const std::string bad = block_problem(layout, i, e);
    if (!bad.empty()) fmt::format_to(it, " {}[{}]{}", st.error(), bad, st.reset());
    b.push_back('\n');
    out.write({b.data(), b.size()});
    if (!bad.empty()) {
      ++(e.reserved ? c.reserved : e.unaligned ? c.unaligned : c.invalid);
      continue;
    }
    ++c.used;
    Status read = img.read_cluster(e.block_offset, block);
    if (!read.ok()) {
      out.print("{}Refcount block: cannot be read: {}{}\n", st.error(), read.message(), st.reset());
      return read;
    }
    dump_block(block, i, g, st, out);
  }
  out.print("{}Refcount Table: unaligned: {}, invalid: {}, reserved: {}, unused: {}, used: {}{}\n",
            st.counter(), c.unaligned, c.invalid, c.reserved, c.unused, c.used, st.reset());
  return Status::Ok();
}

}  // namespace qcow2
