#include "engine/render/check_json.h"

#include "engine/render/check_text.h"

#include <fmt/format.h>

#include "engine/util/escape.h"

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

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

}  // namespace

nlohmann::json finding_to_json(const Finding& f, const std::string& image_path) {
  nlohmann::json x = {{"code", f.code},
                      {"category", category_name(f.category)},
                      {"severity", severity_name(f.severity)},
                      {"risk", risk_name(f.risk)},
                      {"table", f.table},
                      {"message", f.message},
                      {"fix", with_image_path(f.fix, image_path)}};
  if (f.table_offset) x["table-offset"] = hex(*f.table_offset);
  if (f.index) x["index"] = *f.index;
  if (f.file_offset) {
    x["file-offset"] = hex(*f.file_offset);
    x["width"] = f.width;
  }
  if (f.current) {
    x["mask"] = hex(f.mask);
    x["current"] = hex(*f.current);
  }
  if (f.proposed) x["proposed"] = hex(*f.proposed);
  if (f.resolved_by) x["resolved-by"] = hex(*f.resolved_by);
  if (f.guest_offset) x["guest-offset"] = hex(*f.guest_offset);
  if (f.cluster) x["cluster"] = *f.cluster;
  if (!f.referrers.empty() || f.referrers_left_out) {
    x["referrers"] = f.referrers;
    x["referrers-left-out"] = f.referrers_left_out;
  }
  if (f.suspect) x["suspect"] = true;
  return x;
}

std::string json_text(const nlohmann::json& j, int indent) {
  // Every string is escaped at its source; replacing invalid UTF-8 is the last guard, so that
  // writing JSON can never fail.
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

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
  j["filename"] = escape_text(img.path());
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
  for (const Finding& f : r.findings) list.push_back(finding_to_json(f, img.path()));
  j["findings"] = std::move(list);
  return j;
}

}  // namespace qcow2
