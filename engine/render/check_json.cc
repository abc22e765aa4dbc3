#include "engine/render/check_json.h"

#include "engine/render/check_text.h"

namespace qcow2 {
namespace {

const char* category_name(Category c) {
  switch (c) {
    case Category::kInfo: return "info";
    case Category::kLeak: return "leak";
    case Category::kCopied: return "copied";
    case Category::kFlag: return "corrupt-flag";
    case Category::kRefcount: return "refcount";
    case Category::kSnapshot: return "snapshot";
    case Category::kCorrupt: return "corrupt";
  }
  return "?";
}

const char* severity_name(FindingSeverity s) {
  switch (s) {
    case FindingSeverity::kInfo: return "info";
    case FindingSeverity::kWarning: return "warning";
    case FindingSeverity::kError: return "error";
  }
  return "?";
}

nlohmann::json entry_stats(const EntryStats& s) {
  return {{"used", s.used}, {"unused", s.unused}, {"unaligned", s.unaligned}, {"invalid", s.invalid},
          {"reserved", s.reserved}, {"zero-plain", s.zero_plain}, {"zero-alloc", s.zero_alloc},
          {"compressed", s.compressed}};
}

}  // namespace

uint64_t corruption_count(const CheckResult& r) {
  uint64_t n = r.stats.errors;
  for (const Finding& f : r.findings) {
    if (f.code == "overlap" || f.code == "cluster-shared" || f.code == "refcount-table-miss") continue;
    if (f.category == Category::kCopied || f.category == Category::kCorrupt || f.category == Category::kSnapshot) ++n;
  }
  return n;
}

nlohmann::json check_to_json(const Image& img, const CheckResult& r) {
  const CheckStats& s = r.stats;
  nlohmann::json j;
  j["filename"] = img.path();
  j["format"] = "qcow2";
  j["check-errors"] = 0;
  j["corruptions"] = corruption_count(r);
  j["leaks"] = s.leaks;
  j["image-end-offset"] = s.image_end_offset;
  j["total-clusters"] = s.total_clusters;
  j["allocated-clusters"] = s.allocated_clusters;
  j["fragmented-clusters"] = s.fragmented_clusters;
  j["compressed-clusters"] = s.compressed_clusters;
  j["status"] = status_word(r.status);
  j["exit-code"] = exit_code(r.status);
  j["statistics"] = {
      {"l1", entry_stats(s.l1)},
      {"l2", entry_stats(s.l2)},
      {"snapshot-l1", entry_stats(s.snapshot_l1)},
      {"snapshot-l2", entry_stats(s.snapshot_l2)},
      {"refcount-table", entry_stats(s.refcount_table)},
      {"refcount", {{"used", s.refcount_used}, {"unused", s.refcount_unused}, {"leaks", s.leaks},
                    {"errors", s.errors}, {"rebuild", s.rebuild}, {"copied-mismatches", s.copied_mismatches}}},
      {"clusters", {{"file", s.file_clusters}, {"used", s.used_clusters}, {"active", s.active_clusters},
                    {"inactive-only", s.inactive_only_clusters}, {"free", s.free_clusters},
                    {"cow-growth", s.cow_growth_clusters}, {"defrag-release", s.defrag_release_clusters}}},
      {"preallocation", s.preallocation},
      {"cluster-size", img.walkable() ? img.geometry().cluster_size : 0},
  };
  nlohmann::json list = nlohmann::json::array();
  for (const Finding& f : r.findings) {
    nlohmann::json x = {{"code", f.code}, {"category", category_name(f.category)},
                        {"severity", severity_name(f.severity)}, {"table", f.table},
                        {"message", f.message}, {"fix", with_image_path(f.fix, img.path())}};
    if (f.file_offset) x["file-offset"] = *f.file_offset;
    if (f.index) x["index"] = *f.index;
    if (f.guest_offset) x["guest-offset"] = *f.guest_offset;
    if (f.cluster) x["cluster"] = *f.cluster;
    if (f.suggested_value) x["suggested-value"] = *f.suggested_value;
    list.push_back(std::move(x));
  }
  j["findings"] = std::move(list);
  return j;
}

}  // namespace qcow2
