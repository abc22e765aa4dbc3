#include "engine/render/header_text.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/io/fs_type.h"
#include "engine/render/extension_text.h"
#include "engine/render/text_util.h"

namespace qcow2 {
namespace {

const char* bool_text(bool b) { return b ? "true" : "false"; }

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

// A 64-bit feature word, then one line per set bit with its name. `known` is the set of bits
// this program understands; others are named from the image's table if it has one.
void feature_word(TextSink& out, const Extensions& ext, const char* label, uint8_t type,
                  uint64_t word, uint64_t known, const Style& st) {
  field_line(out, label, fmt::format("0x{:016x}", word));
  for (uint8_t bit = 0; bit < 64; ++bit) {
    if (!(word & (1ULL << bit))) continue;
    if (known & (1ULL << bit)) {
      out.print("    bit {:2}: {}\n", bit, escape_text(feature_name(ext, type, bit)));
      continue;
    }
    // Not a bit we understand; the image's own feature table may still name it.
    const auto named = std::find_if(ext.feature_names.begin(), ext.feature_names.end(),
                                    [&](const FeatureName& f) { return f.type == type && f.bit == bit; });
    if (named != ext.feature_names.end() && !named->name.empty())
      out.print("    bit {:2}: {}{} (named by the image, unknown to qcow2-dump){}\n", bit, st.error(),
                escape_text(named->name), st.reset());
    else
      out.print("    bit {:2}: {}unknown{}\n", bit, st.error(), st.reset());
  }
}

void raw_fields(const Image& img, TextSink& out) {
  const Header& h = img.header();
  field_line(out, "magic", fmt::format("0x{:08x}", h.magic));
  field_line(out, "version", fmt::to_string(h.version));
  field_line(out, "backing_file_offset", hex(h.backing_file_offset));
  field_line(out, "backing_file_size", fmt::to_string(h.backing_file_size));
  if (img.extensions().backing_file)
    field_line(out, "backing_file", escape_text(*img.extensions().backing_file));
  field_line(out, "fs_type", host_fs_type(img.file().fd()));
  field_line(out, "virtual_size", size_bmg(h.size));
  field_line(out, "disk_size", size_bmg(img.file().allocated_bytes()));
  field_line(out, "seek_end", fmt::format("{} [0x{:x}]", size_bmg(img.file_size()), img.file_size()));
}

void geometry_fields(const Image& img, TextSink& out) {
  const Header& h = img.header();
  const bool walkable = img.walkable();
  const Geometry& g = img.geometry();
  field_line(out, "cluster_bits", fmt::to_string(h.cluster_bits));
  if (walkable) field_line(out, "cluster_size", fmt::to_string(g.cluster_size));
  field_line(out, "crypt_method", fmt::to_string(h.crypt_method));
  if (walkable) {
    field_line(out, "csize_shift", fmt::to_string(g.csize_shift));
    field_line(out, "csize_mask", hex(g.csize_mask));
    field_line(out, "cluster_offset_mask", hex(g.cluster_offset_mask));
  }
  field_line(out, "l1_table_offset", hex(h.l1_table_offset));
  field_line(out, "l1_size", fmt::to_string(h.l1_size));
  if (walkable) {
    field_line(out, "l1_vm_state_index", fmt::to_string(g.l1_entries_needed));
    field_line(out, "l2_size", fmt::to_string(g.l2_entries));
  }
  field_line(out, "refcount_order", fmt::to_string(h.refcount_order));
  if (walkable) {
    field_line(out, "refcount_bits", fmt::to_string(g.refcount_bits));
    field_line(out, "refcount_block_bits", fmt::to_string(g.refblock_bits));
    field_line(out, "refcount_block_size", fmt::to_string(g.refblock_entries));
  }
  field_line(out, "refcount_table_offset", hex(h.refcount_table_offset));
  field_line(out, "refcount_table_clusters", fmt::to_string(h.refcount_table_clusters));
  field_line(out, "snapshots_offset", hex(h.snapshots_offset));
  field_line(out, "nb_snapshots", fmt::to_string(h.nb_snapshots));
}

void feature_fields(const Image& img, const Style& st, TextSink& out) {
  const Header& h = img.header();
  const Extensions& ext = img.extensions();
  feature_word(out, ext, "incompatible_features", 0, h.incompatible_features, kIncompatKnown, st);
  feature_word(out, ext, "compatible_features", 1, h.compatible_features, kCompatKnown, st);
  feature_word(out, ext, "autoclear_features", 2, h.autoclear_features, kAutoclearKnown, st);
  field_line(out, "header_length", fmt::to_string(h.header_length));
  std::string ct = h.compression_type == 0   ? "zlib"
                   : h.compression_type == 1 ? "zstd"
                                             : fmt::format("unknown ({})", h.compression_type);
  if (!h.has_compression_type) ct += " (implied: no compression_type field)";
  field_line(out, "compression_type", ct);
  if (img.walkable() && img.geometry().extended_l2) {
    const Geometry& g = img.geometry();
    field_line(out, "subcluster_bits", fmt::to_string(g.cluster_bits - 5));
    field_line(out, "subcluster_size", fmt::to_string(g.subcluster_size));
    field_line(out, "subclusters_per_cluster", "32");
  }
  field_line(out, "lazy_refcounts", bool_text(h.compatible_features & kCompatLazyRefcounts));
  field_line(out, "extended_l2", bool_text(h.incompatible_features & kIncompatExtendedL2));
  field_line(out, "data_file", bool_text(h.incompatible_features & kIncompatDataFile));
  field_line(out, "corrupt", bool_text(h.incompatible_features & kIncompatCorrupt));
  field_line(out, "dirty", bool_text(h.incompatible_features & kIncompatDirty));
}

// The backing or data file: its stored name, and where (or whether) we found it.
void linked_file(TextSink& out, const char* title, const std::string& name, const LinkedFile* f,
                 bool walkable, const Style& st) {
  out.print("{}{}:{}\n", st.title(), title, st.reset());
  out.print("    name:   {}\n", escape_text(name));
  if (!walkable)
    out.print("    path:   not looked up (the header is too damaged to trust)\n");
  else if (!f || f->is_url)
    out.print("    path:   not looked up (a URL)\n");
  else if (!f->exists())
    out.print("    path:   {}not found{}\n", st.error(), st.reset());
  else
    out.print("    path:   {} ({})\n", escape_text(f->path), f->how);
}

void linked_files(const Image& img, const Style& st, TextSink& out) {
  const Extensions& ext = img.extensions();
  const Header& h = img.header();
  if (ext.backing_file) {
    linked_file(out, "Backing file", *ext.backing_file, img.backing_file(), img.walkable(), st);
    out.print("    format: {}\n", ext.backing_format ? escape_text(*ext.backing_format)
                                                     : std::string("(no backing format extension)"));
  }
  if (ext.data_file) {
    linked_file(out, "Data file", *ext.data_file, img.data_file(), img.walkable(), st);
    out.print("    raw:    {}\n", bool_text(h.autoclear_features & kAutoclearDataFileRaw));
  } else if (h.incompatible_features & kIncompatDataFile) {
    out.print("{}Data file:{}\n    {}incompatible bit 2 is set but there is no data file name "
              "extension{}\n",
              st.title(), st.reset(), st.error(), st.reset());
  }
}

void problems(const Image& img, const Style& st, TextSink& out) {
  const auto& hp = img.problems();
  const auto& ep = img.extensions().problems;
  if (hp.empty() && ep.empty()) return;
  out.print("{}Header problems: {}{}\n", st.title(), hp.size() + ep.size(), st.reset());
  for (const HeaderProblem& p : hp) {
    const bool bad = p.severity >= Severity::kError;
    out.print("    {}[{}] {}: {}{}\n", bad ? st.error() : "", severity_name(p.severity), p.field,
              p.message, bad ? st.reset() : "");
  }
  for (const std::string& p : ep) out.print("    [extension] {}\n", p);
}

}  // namespace

void render_header(const Image& img, const Style& st, TextSink& out) {
  if (img.header().incompatible_features & kIncompatCorrupt)
    out.print("{}qcow2 header is set corrupt flag!{}\n", st.banner(), st.reset());
  out.print("File: {}\n", escape_text(img.path()));
  out.print("{}\n", std::string(64, '-'));
  raw_fields(img, out);
  geometry_fields(img, out);
  feature_fields(img, st, out);
  render_extensions(img.extensions(), st, out);
  linked_files(img, st, out);
  problems(img, st, out);
}

}  // namespace qcow2
