#include "engine/check/header_findings.h"

#include <fmt/format.h>

#include "engine/util/escape.h"

namespace qcow2 {
namespace {

Category category_of(const HeaderProblem& p) {
  if (p.field == "nb_snapshots" || p.field == "snapshots_offset") return Category::kSnapshot;
  if (p.severity == Severity::kWarning || p.severity == Severity::kInfo) return Category::kInfo;
  return Category::kCorrupt;
}

std::string fix_for(const HeaderProblem& p) {
  if (p.field == "nb_snapshots" || p.field == "snapshots_offset")
    return "the snapshots are lost to QEMU; set nb_snapshots (offset 60) to 0 to use the active image";
  return fmt::format("restore the {} field from a backup or a sister image with the same layout", p.field);
}

}  // namespace

std::vector<Finding> header_findings(const Image& img, const CheckOptions& opts) {
  std::vector<Finding> out;
  const Header& h = img.header();
  for (const HeaderProblem& p : img.problems()) {
    if (p.message.find("corrupt bit") != std::string::npos || p.message.find("dirty bit") != std::string::npos)
      continue;  // reported below with their own codes
    Finding f = make_finding(("header-" + p.field).c_str(), category_of(p), "header", p.message, fix_for(p));
    for (const HeaderField& hf : header_fields(h))
      if (p.field == hf.name && hf.present) f.at_field(hf.offset, hf.size, hf.value);
    out.push_back(std::move(f));
  }
  if (h.incompatible_features & kIncompatCorrupt) {
    Finding f = make_finding("header-corrupt-bit", Category::kFlag, "header",
                             "the corrupt bit is set: QEMU refuses to open the image read-write",
                             "once the check is otherwise clean, clear bit 1 of incompatible_features (offset 72)");
    f.at_field(72, 8, h.incompatible_features, kIncompatCorrupt);
    out.push_back(std::move(f));
  }
  if (h.incompatible_features & kIncompatDirty) {
    Finding f = make_finding("header-dirty-bit", Category::kInfo, "header",
                             "the dirty bit is set: refcounts may be stale (lazy refcounts after a crash); "
                             "opening it read-write in QEMU repairs them silently",
                             "decided once the refcounts are compared");
    f.at_field(72, 8, h.incompatible_features, kIncompatDirty);
    out.push_back(std::move(f));
  }
  if (h.compatible_features & ~kCompatKnown)
    out.push_back(make_finding("header-unknown-compatible", Category::kInfo, "header",
                               fmt::format("unknown compatible feature bits 0x{:x} (safe to ignore)",
                                           h.compatible_features & ~kCompatKnown), "none needed"));
  if (h.autoclear_features & ~kAutoclearKnown)
    out.push_back(make_finding("header-unknown-autoclear", Category::kInfo, "header",
                               fmt::format("unknown autoclear feature bits 0x{:x}: QEMU clears them on "
                                           "its next read-write open", h.autoclear_features & ~kAutoclearKnown),
                               "none needed"));
  if ((h.autoclear_features & kAutoclearBitmaps) && !img.extensions().bitmaps)
    out.push_back(make_finding("header-bitmaps-bit", Category::kCorrupt, "header",
                               "the bitmaps autoclear bit is set but there is no bitmaps extension",
                               "clear bit 0 of autoclear_features (offset 88)"));
  for (const std::string& p : img.extensions().problems)
    out.push_back(make_finding("header-extension", Category::kCorrupt, "header extensions", p,
                               "restore the first cluster from a backup"));
  // A missing linked file damages nothing in this image: its structures were checked all the
  // same. It is a warning that keeps the status, since the guest cannot be read without it.
  if (const LinkedFile* b = img.backing_file(); b && !b->exists() && !b->is_url && !opts.skip_backing) {
    Finding f = make_finding("backing-file-missing", Category::kInfo, "header",
                             fmt::format("backing file '{}' does not exist (looked beside the image): this layer's "
                                         "structures are checked, but the guest cannot be read without it",
                                         escape_text(b->name)),
                             "put the backing file back, or run with -b to check this layer alone");
    f.severity = FindingSeverity::kWarning;
    out.push_back(std::move(f));
  }
  if (const LinkedFile* d = img.data_file(); d && !d->exists() && !d->is_url) {
    Finding f = make_finding("data-file-missing", Category::kInfo, "header",
                             fmt::format("external data file '{}' does not exist (looked beside the image and in "
                                         "the working directory): the metadata is checked, but the guest data is "
                                         "not there",
                                         escape_text(d->name)),
                             "put the data file back beside the image");
    f.severity = FindingSeverity::kWarning;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace qcow2
