#include "engine/check/checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "engine/check/counting_sink.h"
#include "engine/check/crypt_check.h"
#include "engine/check/header_findings.h"
#include "engine/check/layout.h"
#include "engine/check/propose.h"
#include "engine/check/reference_walk.h"
#include "engine/check/refcount_compare.h"
#include "engine/check/referrers.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

// Metadata clusters that something else also references, or that two kinds of metadata
// share: overlaps, even where the refcount happens to agree with the count.
std::unordered_set<uint64_t> overlap_candidates(const std::vector<MetaRange>& meta, const RefCounter& counter) {
  // One (cluster, role) pair per metadata cluster reference, sorted: a flat vector, as there
  // is one per L2 table and refcount block (a map would cost 4x the memory on 4 KiB clusters).
  std::vector<std::pair<uint64_t, Role>> refs;
  for (const MetaRange& m : meta)
    for (uint64_t c = m.first; c < m.first + m.count; ++c) refs.emplace_back(c, m.role);
  std::sort(refs.begin(), refs.end());
  std::unordered_set<uint64_t> out;
  for (size_t i = 0; i < refs.size();) {
    size_t j = i;
    bool roles_differ = false;
    while (j < refs.size() && refs[j].first == refs[i].first) roles_differ |= refs[j++].second != refs[i].second;
    const uint64_t c = refs[i].first;
    if (roles_differ || (c < counter.clusters() && counter.get(c) > j - i)) out.insert(c);
    i = j;
  }
  return out;
}

// The clusters just before and after each run of unreferenced leaked clusters.
std::vector<uint64_t> leaked_run_neighbours(const std::vector<Finding>& findings, const RefCounter& counter,
                                            size_t max) {
  std::vector<uint64_t> leaked;
  for (const Finding& f : findings)
    if (f.code == "refcount-leak" && f.cluster && *f.cluster < counter.clusters() && counter.get(*f.cluster) == 0)
      leaked.push_back(*f.cluster);
  std::sort(leaked.begin(), leaked.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < leaked.size() && out.size() + 2 <= max; ++i) {
    if (i == 0 || leaked[i - 1] + 1 != leaked[i]) {
      if (leaked[i] > 0) out.push_back(leaked[i] - 1);
    }
    if (i + 1 == leaked.size() || leaked[i + 1] != leaked[i] + 1) out.push_back(leaked[i] + 1);
  }
  return out;
}

// Clusters whose refcount, once set to their references, moves to or from 1 while active
// entries carry the other COPIED flag: the proposal for them must name those entries too.
std::vector<uint64_t> copied_changes(const std::vector<Finding>& findings, const RefCounter& counter, size_t max) {
  std::vector<uint64_t> out;
  for (const Finding& f : findings) {
    if (out.size() >= max) break;
    if ((f.code != "refcount-leak" && f.code != "refcount-error" && f.code != "refcount-zero") || !f.cluster ||
        *f.cluster >= counter.clusters())
      continue;
    const uint64_t c = *f.cluster;
    if (counter.get(c) == 1 ? counter.active_not_copied(c) : counter.active_copied(c)) out.push_back(c);
  }
  return out;
}

std::vector<MetaRange> merge_ranges(std::vector<MetaRange> v) {
  std::sort(v.begin(), v.end(), [](const MetaRange& a, const MetaRange& b) { return a.first < b.first; });
  std::vector<MetaRange> out;
  for (const MetaRange& m : v) {
    if (!out.empty() && out.back().role == m.role && out.back().first + out.back().count == m.first &&
        uint64_t{out.back().count} + m.count <= UINT32_MAX)
      out.back().count += m.count;
    else if (out.empty() || out.back().first != m.first || out.back().role != m.role)
      out.push_back(m);
  }
  return out;
}

void finish_stats(const Image& img, const std::vector<MetaRange>& meta, CheckStats& st) {
  const Geometry& g = img.geometry();
  const uint64_t size = img.header().size;
  st.total_clusters = (size + g.cluster_size - 1) >> g.cluster_bits;
  st.file_clusters = (img.file_size() + g.cluster_size - 1) >> g.cluster_bits;
  uint64_t global_meta = 0;
  for (const MetaRange& m : meta)
    if (m.role != Role::kL2 && m.role != Role::kSnapshotL1) global_meta += m.count;
  const uint64_t not_inactive = st.active_clusters + global_meta;
  st.inactive_only_clusters = st.used_clusters > not_inactive ? st.used_clusters - not_inactive : 0;
  st.defrag_release_clusters = st.file_clusters > st.used_clusters ? st.file_clusters - st.used_clusters : 0;
  const uint64_t mapped = st.l2.used + st.l2.zero_alloc + st.l2.compressed;
  if (st.total_clusters > 0 && mapped >= st.total_clusters && st.l1.unused == 0) {
    const bool sparse = img.file().allocated_bytes() < size;
    st.preallocation = sparse ? "metadata" : "full";
  }
}

}  // namespace

Result<CheckResult> check_image(const Image& img, const CheckOptions& opts) {
  CheckResult res;
  std::vector<Finding> header = header_findings(img, opts);
  unsigned last_percent = ~0U;
  uint64_t bytes_read = 0;
  auto report = [&](unsigned pct) {
    if (opts.table_bytes) *opts.table_bytes = bytes_read;
    if (pct == last_percent) return;
    last_percent = pct;
    if (opts.progress) opts.progress(pct);
  };
  // One table read of `total` in a pass that spans [from, from + span) percent.
  auto table_read = [&](unsigned from, unsigned span) {
    return [&report, &bytes_read, &img, from, span](size_t done, size_t total) {
      bytes_read += img.geometry().cluster_size;
      report(from + static_cast<unsigned>(done * (span - 1) / total));
    };
  };
  if (!img.walkable()) {
    res.findings = std::move(header);
    res.status = status_of(res.findings);
    if (res.status < ImageStatus::kCorrupt) res.status = ImageStatus::kCorrupt;
    return res;
  }
  const Geometry& g = img.geometry();
  const uint64_t clusters = (img.file_size() + g.cluster_size - 1) >> g.cluster_bits;
  CountingSink sink(g, clusters, img.snapshots().snapshots.size() + 2, opts.max_findings_per_code);
  // One range per L1 entry of every table, per refcount block and a few more; never more
  // than the file has clusters.
  const Header& h = img.header();
  const uint64_t reftable_entries = uint64_t{h.refcount_table_clusters} << (g.cluster_bits - 3);
  sink.reserve_metadata(std::min<uint64_t>(
      clusters, uint64_t{h.l1_size} * (img.snapshots().snapshots.size() + 1) + reftable_entries + 64));
  report(0);
  QCOW2_ASSIGN_OR_RETURN(Layout built, Layout::build(img));
  res.layout = std::make_shared<const Layout>(std::move(built));
  const Layout& layout = *res.layout;
  WalkOptions wo;
  wo.verify_compressed = opts.verify_compressed;
  wo.bulk = opts.bulk;
  wo.cancel = opts.cancel;
  if (opts.progress || opts.table_bytes) wo.on_table = table_read(0, 50);
  QCOW2_RETURN_IF_ERROR(walk_references(img, layout, sink, &res.stats, wo));
  report(50);

  CompareOutput cmp;
  cmp.watch = overlap_candidates(sink.metadata(), sink.counter());
  TableProgress on_block;
  if (opts.progress || opts.table_bytes) on_block = table_read(50, 30);
  QCOW2_RETURN_IF_ERROR(
      compare_refcounts(img, layout, sink, res.stats, opts.max_suspects, opts.bulk, cmp, opts.cancel, on_block));
  res.stats.counter_bytes = sink.counter().memory_bytes();
  report(80);

  res.findings = sink.flush();
  res.findings.insert(res.findings.end(), header.begin(), header.end());
  for (Finding& f : crypt_method_findings(img, layout)) res.findings.push_back(std::move(f));
  // Who references the suspects, and the clusters beside each leaked run (where the entries
  // that lost those clusters would sit): one more walk, only when something is wrong.
  std::unordered_set<uint64_t> wanted;
  for (const auto& [c, rc] : cmp.suspects) wanted.insert(c);
  for (const uint64_t c : leaked_run_neighbours(res.findings, sink.counter(), opts.max_suspects)) wanted.insert(c);
  for (const uint64_t c : copied_changes(res.findings, sink.counter(), opts.max_suspects)) wanted.insert(c);
  ReferrerMap referrers;
  if (!wanted.empty()) {
    QCOW2_ASSIGN_OR_RETURN(referrers, collect_referrers(img, layout, wanted, opts.cancel));
    referrer_findings(img, cmp.suspects, referrers, res.findings);
  }
  if (cmp.suspects_truncated)
    res.findings.push_back(make_finding(
        "referrers-not-named", Category::kInfo, "",
        fmt::format("more than {} clusters are suspect: the referrers of the others are not named, and their "
                    "cross-links may be missing from this report",
                    opts.max_suspects),
        "repair what is listed, then check again"));
  res.metadata = merge_ranges(std::move(sink.metadata()));
  propose_fixes(img, layout, res.metadata, sink.counter(), referrers, res.findings);
  for (Finding& f : res.findings) {
    if (f.code != "header-dirty-bit") continue;
    const bool fine = res.stats.leaks == 0 && res.stats.errors == 0;
    f.message += fine ? "; the refcounts are in fact correct" : "; the refcounts are indeed wrong (see below)";
    f.fix = fine ? "clearing bit 0 of incompatible_features (offset 72) is safe"
                 : "repair the refcounts first; QEMU would do it silently on a read-write open";
  }
  // Messages quote names and paths from the image: one line of printable ASCII each, always.
  for (Finding& f : res.findings) {
    if (!is_printable_ascii(f.message)) f.message = escape_text(f.message);
    if (!is_printable_ascii(f.fix)) f.fix = escape_text(f.fix);
    if (!is_printable_ascii(f.table)) f.table = escape_text(f.table);
  }
  finish_stats(img, res.metadata, res.stats);
  res.status = status_of(res.findings);
  res.counts = std::make_shared<RefCounter>(std::move(sink.counter()));
  report(100);
  return res;
}

}  // namespace qcow2
