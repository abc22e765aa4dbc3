#include "engine/render/dump_text.h"

#include <fmt/format.h>

#include <filesystem>
#include <iterator>
#include <limits>

#include "engine/render/text_util.h"
#include "engine/util/bytes.h"
#include "engine/walk/table_walk.h"

namespace qcow2 {
namespace {

using Buf = fmt::memory_buffer;


struct L2Counters {
  uint64_t unaligned = 0, invalid = 0, unused = 0, used = 0, compressed = 0, zero_plain = 0,
           zero_alloc = 0;
};

// Data clusters live in the external data file when there is one; an offset is "past the end"
// only against the file it points into. Unknown size (data file not found): no limit.
uint64_t data_limit(const Image& img) {
  if (!img.geometry().external_data) return img.file_size();
  const LinkedFile* f = img.data_file();
  if (!f || !f->exists()) return std::numeric_limits<uint64_t>::max();
  std::error_code ec;
  const auto size = std::filesystem::file_size(f->path, ec);
  return ec ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(size);
}

std::string l2_flag_names(const L2Entry& e) {
  std::string s;
  auto add = [&s](const char* n) {
    if (!s.empty()) s += '|';
    s += n;
  };
  if (e.copied) add("COPIED");
  if (e.kind == L2Kind::kCompressed) add("COMPRESSED");
  if (e.zero_flag) add("ZERO");
  return s.empty() ? "none" : s;
}

class DumpVisitor : public TableVisitor {
 public:
  DumpVisitor(const Image& img, const DumpOptions& opt, const Style& st, TextSink& out)
      : g_(img.geometry()),
        data_limit_(data_limit(img)),
        data_label_(g_.external_data ? "data-file offset" : "data offset"),
        opt_(opt),
        st_(st),
        out_(out) {}

  void on_l1(const L1Visit& v) override {
    const L1Entry& e = v.entry;
    if (e.raw == 0) {
      ++l1_.unused;
      return;
    }
    Buf b;
    auto it = std::back_inserter(b);
    fmt::format_to(it, "l1 table[{:4}], l2 offset: 0x{:x}", v.l1_index, e.l2_offset);
    if (opt_.flags) fmt::format_to(it, " [0x{:x}: {}]", e.raw, e.copied ? "COPIED" : "none");
    if (e.reserved) fmt::format_to(it, " {}[reserved bits 0x{:x}]{}", st_.error(), e.reserved, st_.reset());
    if (!e.used())
      ++l1_.unused;
    else if (e.unaligned)
      ++l1_.unaligned;
    else if (!v.skipped.empty())
      ++l1_.invalid;
    else
      ++l1_.used;
    if (!v.skipped.empty()) fmt::format_to(it, " {}[skipped: {}]{}", st_.error(), v.skipped, st_.reset());
    if (v.same_as)
      fmt::format_to(it, " [same L2 table as {} l1 table[{}]: its entries are listed there]", v.same_as->table,
                     v.same_as->l1_index);
    if (v.pointers > 1) fmt::format_to(it, " [shared: {} L1 entries of this dump name it]", v.pointers);
    b.push_back('\n');
    out_.write({b.data(), b.size()});
    l2_ = {};
  }

  void on_l2(const L2Visit& v) override {
    const L2Entry& e = v.entry;
    if (e.raw == 0 && e.bitmap == 0) {
      ++l2_.unused;
      return;
    }
    Buf b;
    auto it = std::back_inserter(b);
    fmt::format_to(it, "    l2 table[{:4}], ", v.l2_index);
    const bool compressed = e.kind == L2Kind::kCompressed;
    if (compressed)
      fmt::format_to(it, "compressed offset: 0x{:x}, sectors: {}, bytes: {}", e.comp_offset,
                     e.comp_extra_sectors + 1, e.comp_length);
    else
      fmt::format_to(it, "{}: 0x{:x}", data_label_, e.host_offset);
    if (opt_.flags) fmt::format_to(it, " [0x{:x}: {}, {}]", e.raw, l2_flag_names(e), l2_kind_name(e.kind));
    if (e.reserved) fmt::format_to(it, " {}[reserved bits 0x{:x}]{}", st_.error(), e.reserved, st_.reset());
    classify(e, it);
    fmt::format_to(it, " | vdisk offset: 0x{:x}", v.guest_offset);
    if (g_.extended_l2) {
      fmt::format_to(it, " | alloc: 0x{:08x} zero: 0x{:08x}", e.alloc_mask(), e.zero_mask());
      if (e.alloc_and_zero())
        fmt::format_to(it, " {}[alloc+zero: 0x{:08x}]{}", st_.error(), e.alloc_and_zero(), st_.reset());
    }
    b.push_back('\n');
    out_.write({b.data(), b.size()});
  }

  void on_l2_done(const L1Visit&) override {
    out_.print("    {}L2 Entry: unaligned: {}, invalid: {} (past end of file), unused: {}, used: {}, "
               "compressed: {}, zero_plain: {}, zero_alloc: {}{}\n",
               st_.counter(), l2_.unaligned, l2_.invalid, l2_.unused, l2_.used, l2_.compressed,
               l2_.zero_plain, l2_.zero_alloc, st_.reset());
  }

  void finish() {
    out_.print("{}L1 Entry: unaligned: {}, invalid: {}, unused: {}, used: {}{}\n", st_.counter(),
               l1_.unaligned, l1_.invalid, l1_.unused, l1_.used, st_.reset());
  }

 private:
  // Puts the entry in exactly one counter class and tags damage on its line.
  template <class It>
  void classify(const L2Entry& e, It it) {
    auto past_end = [&](uint64_t off) {
      if (off < data_limit_) return false;
      fmt::format_to(it, " {}[invalid: past end of file]{}", st_.error(), st_.reset());
      ++l2_.invalid;
      return true;
    };
    switch (e.kind) {
      case L2Kind::kCompressed:
        if (!past_end(e.comp_offset)) ++l2_.compressed;
        return;
      case L2Kind::kZeroPlain:
        ++l2_.zero_plain;
        return;
      case L2Kind::kUnallocated:
        // Extended L2 reads-as-zero subclusters without a host cluster.
        if (e.zero_mask() != 0) ++l2_.zero_plain;
        else ++l2_.unused;
        return;
      case L2Kind::kNormal:
      case L2Kind::kZeroAlloc:
        if (e.unaligned) {
          fmt::format_to(it, " {}[unaligned]{}", st_.error(), st_.reset());
          ++l2_.unaligned;
        } else if (!past_end(e.host_offset)) {
          ++(e.kind == L2Kind::kZeroAlloc ? l2_.zero_alloc : l2_.used);
          if (!g_.external_data && data_placement(e, g_, data_limit_) == Placement::kCut)
            fmt::format_to(it, " {}[cut by the end of the file]{}", st_.error(), st_.reset());
        }
        return;
    }
  }

  const Geometry& g_;
  uint64_t data_limit_;
  const char* data_label_;
  const DumpOptions& opt_;
  const Style& st_;
  TextSink& out_;
  L1Counters l1_;
  L2Counters l2_;
};

}  // namespace

std::string active_section_title() { return "Active Snapshot:"; }

std::string snapshot_section_title(const Snapshot& s) {
  return fmt::format("Snapshot[{}] id {} name {}:", s.index, escape_text(s.id), escape_text(s.name));
}

Status render_l1_dump(const Image& img, const Layout& layout, const L1Dump& t, ShownTables& shown,
                      const DumpOptions& opt, const Style& st, TextSink& out) {
  out.print("{}{}{}\n", st.section(), t.title, st.reset());
  out.print("L1 Table: [offset: 0x{:x}, len: {}]\n", t.offset, t.size);
  if (!t.same_as.empty()) {
    out.print("L1 Table: the same table as {} (its entries are listed there)\n", t.same_as);
    return Status::Ok();
  }
  if (!t.entries) {
    out.print("{}L1 Table: cannot be read: {}{}\n", st.error(), t.problem, st.reset());
    return Status::Corruption(t.problem);
  }
  DumpVisitor visitor(img, opt, st, out);
  // The section title without its colon names the table in "same L2 table as ..." notes.
  const std::string_view name = t.title.back() == ':' ? std::string_view(t.title).substr(0, t.title.size() - 1)
                                                      : std::string_view(t.title);
  Status walked = walk_tables(img, name, t.offset, *t.entries, visitor, &layout.claims(), &shown);
  if (!walked.ok()) {
    out.print("{}L2 Table: cannot be read: {}{}\n", st.error(), walked.message(), st.reset());
    return walked;
  }
  visitor.finish();
  return Status::Ok();
}

}  // namespace qcow2
