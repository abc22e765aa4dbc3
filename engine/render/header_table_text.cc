#include "engine/render/header_table_text.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "engine/io/fs_type.h"
#include "engine/render/column_text.h"
#include "engine/render/text_util.h"

namespace qcow2 {
namespace {

constexpr const char* kRow = "{:<24} {:<20} {:<24} {:>6} {:>4}\n";

const char* yes_no(bool b) { return b ? "yes" : "no"; }

// The names of the set bits of a feature word, "none" when none is set.
std::string feature_list(const Extensions& ext, uint8_t type, uint64_t word) {
  std::string s;
  for (uint8_t bit = 0; bit < 64; ++bit) {
    if (!(word & (1ULL << bit))) continue;
    if (!s.empty()) s += ',';
    s += token(feature_name(ext, type, bit));
  }
  return s.empty() ? "none" : s;
}

std::string decoded(const Image& img, const HeaderField& f) {
  const Header& h = img.header();
  const std::string name = f.name;
  if (!f.present) return h.version < 3 ? "absent(v2)" : "absent";
  if (name == "magic") return f.value == kQcow2Magic ? "QFI\\xfb" : "bad-magic";
  if (name == "backing_file_offset" || name == "snapshots_offset")
    return f.value ? fmt::to_string(f.value) : "none";
  if (name == "cluster_bits")
    return f.value >= 9 && f.value <= 21 ? exact_size(1ULL << f.value) : "invalid";
  if (name == "size") return exact_size(f.value);
  if (name == "crypt_method")
    return f.value == 0 ? "none" : f.value == 1 ? "aes" : f.value == 2 ? "luks" : "unknown";
  if (name == "incompatible_features") return feature_list(img.extensions(), 0, f.value);
  if (name == "compatible_features") return feature_list(img.extensions(), 1, f.value);
  if (name == "autoclear_features") return feature_list(img.extensions(), 2, f.value);
  if (name == "refcount_order") return f.value <= 6 ? fmt::format("{}-bit", 1U << f.value) : "invalid";
  if (name == "compression_type")
    return f.value == 0 ? "zlib" : f.value == 1 ? "zstd" : "unknown";
  return fmt::to_string(f.value);
}

void derived(TextSink& out, const char* name, uint64_t value, const std::string& text) {
  out.print(kRow, name, hex_value(value), text, "-", "-");
}

void derived_text(TextSink& out, const char* name, const std::string& text) {
  out.print(kRow, name, "-", text, "-", "-");
}

void derived_flag(TextSink& out, const char* name, bool b) {
  out.print(kRow, name, hex_value(b), yes_no(b), "-", "-");
}

}  // namespace

void render_header_table(const Image& img, TextSink& out) {
  const Header& h = img.header();
  out.print(kRow, "# field", "value", "decoded", "offset", "size");
  for (const HeaderField& f : header_fields(h))
    out.print(kRow, f.name, f.present ? hex_value(f.value) : "-", decoded(img, f), f.offset, f.size);

  derived(out, "virtual_size", h.size, fmt::to_string(h.size));
  derived(out, "file_size", img.file_size(), fmt::to_string(img.file_size()));
  // The host filesystem (statfs f_type and its name, one token): "fs_type 0xef53 ext2/ext3".
  if (const auto magic = fs_magic(img.file().fd())) {
    const std::string name = fs_type_name(*magic);
    derived(out, "fs_type", *magic, name.rfind("unknown", 0) == 0 ? "unknown" : token(name));
  } else
    derived_text(out, "fs_type", "unknown");
  derived_flag(out, "walkable", img.walkable());
  if (img.walkable()) {
    const Geometry& g = img.geometry();
    derived(out, "cluster_size", g.cluster_size, fmt::to_string(g.cluster_size));
    derived(out, "l2_entries", g.l2_entries, fmt::to_string(g.l2_entries));
    derived(out, "l2_entry_bytes", g.l2_entry_bytes, fmt::to_string(g.l2_entry_bytes));
    derived(out, "l1_entries_needed", g.l1_entries_needed, fmt::to_string(g.l1_entries_needed));
    derived(out, "guest_bytes_per_l1_entry", g.guest_bytes_per_l1_entry,
            exact_size(g.guest_bytes_per_l1_entry));
    derived(out, "refcount_bits", g.refcount_bits, fmt::to_string(g.refcount_bits));
    derived(out, "refcount_block_entries", g.refblock_entries, fmt::to_string(g.refblock_entries));
    derived(out, "subcluster_size", g.subcluster_size, fmt::to_string(g.subcluster_size));
    derived(out, "csize_shift", g.csize_shift, fmt::to_string(g.csize_shift));
    derived(out, "csize_mask", g.csize_mask, fmt::to_string(g.csize_mask));
    derived(out, "cluster_offset_mask", g.cluster_offset_mask, fmt::to_string(g.cluster_offset_mask));
  }
  derived_flag(out, "extended_l2", h.incompatible_features & kIncompatExtendedL2);
  derived_flag(out, "external_data", h.incompatible_features & kIncompatDataFile);
  derived_flag(out, "lazy_refcounts", h.compatible_features & kCompatLazyRefcounts);
  derived_flag(out, "dirty", h.incompatible_features & kIncompatDirty);
  derived_flag(out, "corrupt", h.incompatible_features & kIncompatCorrupt);
  const Extensions& ext = img.extensions();
  derived_text(out, "backing_file", ext.backing_file ? token(*ext.backing_file) : "none");
  derived_text(out, "backing_format", ext.backing_format ? token(*ext.backing_format) : "none");
  derived_text(out, "data_file", ext.data_file ? token(*ext.data_file) : "none");
  derived(out, "header_problems", img.problems().size() + ext.problems.size(),
          fmt::to_string(img.problems().size() + ext.problems.size()));
  if (!img.walkable()) out.print("# not walkable: {}\n", img.walk_status().message());
}

void render_features_table(const Image& img, TextSink& out) {
  const Header& h = img.header();
  const Extensions& ext = img.extensions();
  struct Word {
    const char* kind;
    uint8_t type;
    uint64_t value;
    uint64_t known;
  };
  const Word words[] = {{"incompatible", 0, h.incompatible_features, kIncompatKnown},
                        {"compatible", 1, h.compatible_features, kCompatKnown},
                        {"autoclear", 2, h.autoclear_features, kAutoclearKnown}};
  out.print("{:<12} {:>3} {:<3} {}\n", "# kind", "bit", "set", "name");
  for (const Word& w : words) {
    for (uint8_t bit = 0; bit < 64; ++bit) {
      const bool set = w.value & (1ULL << bit);
      bool named = false;
      for (const FeatureName& f : ext.feature_names) named |= f.type == w.type && f.bit == bit;
      if (!set && !named && !(w.known & (1ULL << bit))) continue;
      out.print("{:<12} {:>3} {:<3} {}\n", w.kind, bit, yes_no(set),
                escape_text(feature_name(ext, w.type, bit)));
    }
  }
}

}  // namespace qcow2
