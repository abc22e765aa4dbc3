#include "engine/render/check_text.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "engine/render/check_json.h"
#include "engine/render/text_util.h"

namespace qcow2 {
namespace {

constexpr std::string_view kRule =
    "================================================================================\n";

void entry_line(TextSink& out, const Style& st, std::string_view what, const EntryStats& s, bool l2) {
  out.print("{}{}: used: {}, unused: {}, unaligned: {}, invalid: {}, reserved: {}", st.counter(), what, s.used,
            s.unused, s.unaligned, s.invalid, s.reserved);
  if (l2) out.print(", zero_plain: {}, zero_alloc: {}, compressed: {}", s.zero_plain, s.zero_alloc, s.compressed);
  out.print("{}\n", st.reset());
}

std::string clusters_bytes(uint64_t n, uint64_t cs) { return fmt::format("{} [{}]", n, size_bmg(n * cs)); }

// The L1 line above a bad L2 line, as the well-known tool prints context.
void parent_line(const Image& img, const Finding& f, std::string& last_parent, TextSink& out) {
  if (f.table.rfind("L2 table 0x", 0) != 0 || !f.guest_offset) return;
  const Geometry& g = img.geometry();
  const uint64_t l1_index = *f.guest_offset / g.guest_bytes_per_l1_entry;
  std::string line = fmt::format("l1 table[{:4}], l2 offset: {}\n", l1_index, f.table.substr(9));
  if (line != last_parent) out.write(line);
  last_parent = line;
}

// "proposed: 0x... -> 0x... (8 bytes at 0x..., bits 0x...; risky)": what a repair would write.
void proposal_line(const Finding& f, std::string_view indent, TextSink& out) {
  if (f.proposed) {
    const uint64_t full = f.width >= 8 ? ~0ULL : (1ULL << (8 * f.width)) - 1;
    const std::string bits = f.mask == full ? "" : fmt::format(", bits 0x{:x}", f.mask);
    out.print("{}proposed: 0x{:0{}x} -> 0x{:0{}x} ({} bytes at 0x{:x}{}; {})\n", indent, f.current.value_or(0),
              2 * f.width, *f.proposed, 2 * f.width, f.width, *f.file_offset, bits, risk_name(f.risk));
  } else if (f.resolved_by) {
    out.print("{}resolved by the proposal at 0x{:x}\n", indent, *f.resolved_by);
  }
  for (const std::string& r : f.referrers) out.print("{}referrer: {}\n", indent, r);
  if (f.referrers_left_out) out.print("{}referrers not listed: {}\n", indent, f.referrers_left_out);
}

void finding_lines(const Image& img, const CheckResult& r, const CheckTextOptions& opt, const Style& st,
                   TextSink& out) {
  std::string last_parent;
  for (const Finding& f : r.findings) {
    const bool refcount = f.table.rfind("refcount", 0) == 0;
    if ((refcount && !opt.show_refcount) || (!refcount && !opt.show_snapshot && f.table.find("L") != std::string::npos))
      continue;
    const bool in_l2 = f.table.rfind("L2 table 0x", 0) == 0;
    // Any other line in between breaks the context: the next L2 line gets its L1 line again.
    if (in_l2)
      parent_line(img, f, last_parent, out);
    else
      last_parent.clear();
    std::string where;
    if (in_l2 && f.index && f.file_offset && f.current)
      where = fmt::format("    l2 table[{:4}], entry: 0x{:016x} at 0x{:x}", *f.index, *f.current, *f.file_offset);
    else if (f.file_offset)
      where = fmt::format("{}{} at 0x{:x}", f.table, f.index ? fmt::format("[{}]", *f.index) : "", *f.file_offset);
    else
      where = f.table;
    const std::string guest = f.guest_offset ? fmt::format(" | vdisk offset: 0x{:x}", *f.guest_offset) : "";
    const auto colour = f.severity == FindingSeverity::kInfo ? std::string_view() : st.error();
    const std::string_view indent = in_l2 ? "        " : "    ";
    // Messages and fixes are printable ASCII by construction (engine/util/escape.h).
    out.print("{} {}[{}]{} {}{}\n", where, colour, f.code, st.reset(), f.message, guest);
    out.print("{}fix: {}\n", indent, with_image_path(f.fix, img.path()));
    proposal_line(f, indent, out);
  }
}

// Findings that change no status but still ask the user to act (an IN_USE bitmap, a missing
// backing file).
size_t warnings(const CheckResult& r) {
  size_t n = 0;
  for (const Finding& f : r.findings) n += f.category == Category::kInfo && f.severity == FindingSeverity::kWarning;
  return n;
}

std::string advice(const CheckResult& r) {
  bool structural = false;
  for (const Finding& f : r.findings) structural |= f.category == Category::kCorrupt;
  bool shared = false;
  for (const Finding& f : r.findings) shared |= f.code == "cluster-shared";
  switch (r.status) {
    case ImageStatus::kGood:
      return warnings(r) ? fmt::format("No errors were found in the image's structures, but {} warning{} below "
                                       "ask{} for attention.",
                                       warnings(r), warnings(r) == 1 ? "" : "s", warnings(r) == 1 ? "s" : "")
                         : "No errors were found on the image.";
    case ImageStatus::kLeak: {
      bool holds_data = false;
      for (const Finding& f : r.findings) holds_data |= f.category == Category::kLeak && f.risk == Risk::kDestructive;
      if (holds_data)
        return "Leaked clusters only, but some hold data: they may be what a damaged or zeroed entry lost. "
               "Read the findings (freeing those is marked destructive) before freeing anything; do not run "
               "qemu-img check -r leaks IMAGE blindly.";
      return "Leaked clusters only: they waste space and hold nothing the tables reach. "
             "Free them with: qemu-img check -r leaks IMAGE";
    }
    case ImageStatus::kCopied:
      return "Only COPIED flags disagree with the refcounts; the data is intact. "
             "Fix the flags with: qemu-img check -r all IMAGE";
    case ImageStatus::kCorruptFlag:
      return "The metadata is consistent but the corrupt bit is set. "
             "qemu-img check -r all IMAGE clears it (nothing else will change).";
    case ImageStatus::kRefcountError:
      return shared ? "Refcounts are too low and clusters are shared by several entries: the allocator "
                      "handed them out again. Back up the image; give each referrer listed its own copy "
                      "before raising refcounts (qemu-img check -r all would make the sharing look legitimate)."
                    : "Refcounts are too low: the allocator may hand those clusters out again and overwrite "
                      "data. Back up the image, then: qemu-img check -r all IMAGE";
    case ImageStatus::kSnapshotDamaged:
      return "The snapshot table is damaged: see the first bad entry below. The active image can still be "
             "read; drop the damaged entries (set nb_snapshots to the number of good ones) before using "
             "QEMU's snapshot commands.";
    case ImageStatus::kCorrupt:
      return structural ? "Structures are damaged. Back up the image first and do NOT run qemu-img check -r all: "
                          "it follows bad pointers and can overwrite guest data. Apply the fixes listed per finding."
                        : "The image is damaged; back it up before any repair.";
  }
  return "";
}

}  // namespace

std::string with_image_path(std::string text, const std::string& image_path) {
  const std::string path = shell_quote(image_path);
  for (size_t at = text.find("IMAGE"); at != std::string::npos; at = text.find("IMAGE", at + path.size()))
    text.replace(at, 5, path);
  return text;
}

void render_status_banner(const CheckResult& r, const std::string& image_path, const Style& st, TextSink& out) {
  const auto colour = r.status == ImageStatus::kGood ? st.section() : st.banner();
  out.print("{}####  status: {} (exit {})  ####{}\n", colour, status_word(r.status), exit_code(r.status), st.reset());
  out.print("{}\n", with_image_path(advice(r), image_path));
  // Each distinct fix once, in the order the findings came.
  std::set<std::string> seen;
  size_t shown = 0;
  for (const Finding& f : r.findings) {
    if (f.severity == FindingSeverity::kInfo || f.fix.empty() || !seen.insert(f.code).second) continue;
    if (++shown > 12) break;
    out.print("  - {}: {}\n", f.code, with_image_path(f.fix, image_path));
  }
}

namespace {

// -p: each data cluster away from where preallocation puts it, as the well-known tool words it
// ("NOT Prealloc[L1 index] ..."), at most the report's cap, then how many more.
void prealloc_section(const PreallocReport& p, const Style& st, TextSink& out) {
  out.print("{}Prealloc Layout:{}\n", st.section(), st.reset());
  if (!p.checked) {
    out.print("not checked: the image has snapshots (copy-on-write moves clusters by design)\n");
    return;
  }
  for (const PreallocDeviation& d : p.listed)
    out.print("{}NOT Prealloc[{}] l2_offset: 0x{:x}, index: {}, data offset: 0x{:x}{}\n", st.error(), d.l1_index,
              d.l2_offset, d.l2_index, d.data_offset, st.reset());
  if (p.deviations > p.listed.size())
    out.print("... and {} more not listed\n", p.deviations - p.listed.size());
  out.print("{}Prealloc: not in place: {}, data clusters: {}{}\n", st.counter(), p.deviations, p.data_clusters,
            st.reset());
}

}  // namespace

void render_check(const Image& img, const CheckResult& r, const CheckTextOptions& opt, const Style& st,
                  TextSink& out) {
  const CheckStats& s = r.stats;
  const uint64_t cs = img.walkable() ? img.geometry().cluster_size : 0;
  if (img.walkable()) {
    const Header& h = img.header();
    if (opt.show_snapshot) {
      out.print("{}Active Snapshot:{}\n", st.section(), st.reset());
      out.print("L1 Table:       [offset: 0x{:x}, len: {}]\n", h.l1_table_offset, h.l1_size);
      entry_line(out, st, "L1 Entry", s.l1, false);
      entry_line(out, st, "L2 Entry", s.l2, true);
      out.write(kRule);
      out.print("{}Inactive Snapshot:{}\n", st.section(), st.reset());
      for (const Snapshot& sn : img.snapshots().snapshots)
        out.print("snapshot[{}]: l1_table_offset: 0x{:x}, l1_size: {} / id: {}, name: {}\n", sn.index,
                  sn.l1_table_offset, sn.l1_size, escape_text(sn.id), escape_text(sn.name));
      entry_line(out, st, "L1 Entry", s.snapshot_l1, false);
      entry_line(out, st, "L2 Entry (snapshot-only tables)", s.snapshot_l2, true);
      out.write(kRule);
    }
    if (opt.show_refcount) {
      out.print("{}Refcount Table:{} [offset: 0x{:x}, len: {}]\n", st.section(), st.reset(), h.refcount_table_offset,
                uint64_t{h.refcount_table_clusters} * cs / 8);
      entry_line(out, st, "Refcount Table", s.refcount_table, false);
      out.print("{}Refcount: error: {}, leak: {}, rebuild: {}, unused: {}, used: {}{}\n", st.counter(), s.errors,
                s.leaks, s.rebuild, s.refcount_unused, s.refcount_used, st.reset());
      out.write(kRule);
    }
    out.print("{}COPIED OFLAG:{} mismatches: {}\n", st.section(), st.reset(), s.copied_mismatches);
    out.print("Active L2 COPIED: {} (COW growth since the last snapshot)\n", clusters_bytes(s.cow_growth_clusters, cs));
    out.print("Active Cluster: {}\n", clusters_bytes(s.active_clusters, cs));
    out.print("Inactive Cluster: {}\n", clusters_bytes(s.inactive_only_clusters, cs));
    out.print("All Used Cluster: {}\n", clusters_bytes(s.used_clusters, cs));
    out.print("Free Cluster: {}\n", clusters_bytes(s.free_clusters, cs));
    out.print("Defrag Release: {}\n", clusters_bytes(s.defrag_release_clusters, cs));
    out.write(kRule);
    if (opt.prealloc) {
      prealloc_section(*opt.prealloc, st, out);
      out.write(kRule);
    }
    out.print("{}Summary:{}\n", st.section(), st.reset());
    out.print("preallocation: {}\n", s.preallocation);
    const double total = s.total_clusters ? static_cast<double>(s.total_clusters) : 1.0;
    out.print("{}/{} = {:.2f}% allocated, {:.2f}% fragmented, {:.2f}% compressed clusters\n", s.allocated_clusters,
              s.total_clusters, 100.0 * s.allocated_clusters / total,
              s.allocated_clusters ? 100.0 * s.fragmented_clusters / s.allocated_clusters : 0.0,
              s.allocated_clusters ? 100.0 * s.compressed_clusters / s.allocated_clusters : 0.0);
    out.print("Image end offset: {}\n", s.image_end_offset);
  }
  out.print("corruptions: {}, leaks: {}, findings: {}\n", corruption_count(r), s.leaks, r.findings.size());
  if (opt.errors && !r.findings.empty()) {
    out.write(kRule);
    out.print("{}Findings:{}\n", st.section(), st.reset());
    finding_lines(img, r, opt, st, out);
  } else if (!r.findings.empty()) {
    std::map<std::string, uint64_t> per_code;
    for (const Finding& f : r.findings) ++per_code[f.code];
    out.print("findings by code:");
    for (const auto& [code, n] : per_code) out.print(" {}={}", code, n);
    out.print("  (qcow2-dump -m error lists each one)\n");
  }
  out.write(kRule);
  render_status_banner(r, img.path(), st, out);
}

}  // namespace qcow2
