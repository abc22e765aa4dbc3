// Fuzz target: a whole image file, through everything a user can ask of it: Image::open, the
// check and its text and JSON reports, qcow2-dump's info and dump output, the guest map, and
// the mounted tree's files (rendered through the Tree model exactly as the mount does, with
// the check's outcome as the mount would have it, but without FUSE).
// Beyond crashes, it holds the engine to two promises: the bulk check and the entry-by-entry
// check (CheckOptions::bulk) give identical JSON reports, and every file a directory lists can
// be looked up by its name and exists.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/check/checker.h"
#include "engine/check/layout.h"
#include "engine/render/check_json.h"
#include "engine/render/check_text.h"
#include "engine/render/dump_text.h"
#include "engine/render/header_text.h"
#include "engine/render/map_text.h"
#include "engine/render/snapshot_text.h"
#include "engine/render/text_sink.h"
#include "engine/walk/guest_map.h"
#include "fusefs/content.h"
#include "fusefs/render_node.h"
#include "fusefs/status_text.h"
#include "fusefs/tree.h"
#include "tests/fuzz/mem_image.h"

namespace {

using qcow2fs::Kind;
using qcow2fs::Node;

// One input stays fast: a few MiB of file, and a bounded number of each kind of tree file.
constexpr size_t kMaxInput = 4u << 20;
constexpr size_t kMaxPerDir = 4;
constexpr size_t kMaxSnapshots = 4;

// qcow2-dump -m info, -m dump -f (active and snapshot tables) and the guest map.
void render_tool_views(const qcow2::Image& img, qcow2::TextSink& out) {
  const qcow2::Style st(false);
  qcow2::render_header(img, st, out);
  qcow2::render_snapshots(img, st, out);
  qcow2::render_bitmaps(img, st, out);
  if (!img.walkable()) return;
  auto layout = qcow2::Layout::build(img);
  if (!layout.ok()) return;
  const qcow2::DumpOptions opt{true};
  const auto& h = img.header();
  qcow2::ShownTables shown;
  (void)qcow2::render_l1_dump(img, *layout,
                              {qcow2::active_section_title(), h.l1_table_offset, h.l1_size,
                               &layout->active_l1().entries, {}, {}},
                              shown, opt, st, out);
  const auto& snaps = img.snapshots().snapshots;
  for (size_t i = 0; i < snaps.size() && i < kMaxSnapshots; ++i) {
    const qcow2::TableVerdict& v = layout->snapshot_l1(static_cast<uint32_t>(i));
    const std::vector<uint64_t>* entries =
        v.ok() && v.table >= 0 ? &layout->l1_tables()[static_cast<size_t>(v.table)].entries : nullptr;
    (void)qcow2::render_l1_dump(img, *layout,
                                {qcow2::snapshot_section_title(snaps[i]), snaps[i].l1_table_offset, snaps[i].l1_size,
                                 entries, v.problem, {}},
                                shown, opt, st, out);
  }
  (void)qcow2::render_refcount_dump(img, *layout, opt, st, out);
  if (auto map = qcow2::guest_map(img, h.l1_table_offset, layout->active_l1().entries, &layout->claims()); map.ok())
    qcow2::render_guest_map(*map, out);
}

// qcow2-dump -m check (the tree's report.txt has -m error, report.json the JSON).
void render_check_views(const qcow2::Image& img, const qcow2::CheckResult& r, qcow2::TextSink& out) {
  qcow2::render_check(img, r, qcow2::CheckTextOptions{}, qcow2::Style(true), out);
  qcow2::render_status_banner(r, img.path(), qcow2::Style(false), out);
}

// The bulk paths are an optimisation: the entry-by-entry check must say exactly the same.
void require_same_as_entry_by_entry(const qcow2::Image& img, const qcow2::Result<qcow2::CheckResult>& bulk) {
  qcow2::CheckOptions opts;
  opts.bulk = false;
  const auto slow = qcow2::check_image(img, opts);
  if (bulk.ok() != slow.ok()) {
    std::fprintf(stderr, "bulk check %s, entry-by-entry check %s\n", bulk.ok() ? "ok" : "failed",
                 slow.ok() ? "ok" : "failed");
    std::abort();
  }
  if (!bulk.ok()) return;
  // Strict serialisation: every string of the report must be valid UTF-8 by construction
  // (names are escaped at their source); a throw here is a finding.
  const std::string a = qcow2::check_to_json(img, *bulk).dump(1);
  const std::string b = qcow2::check_to_json(img, *slow).dump(1);
  if (a == b) return;
  std::fprintf(stderr, "bulk and entry-by-entry checks differ\n--- bulk:\n%s\n--- entry by entry:\n%s\n",
               a.c_str(), b.c_str());
  std::abort();
}

// Renders every file of `dir` (up to kMaxPerDir of each directory, depth first); with
// `outcome_only`, only the files whose text depends on the check.
void render_tree(const qcow2fs::Tree& tree, const qcow2fs::CheckOutcome* o, const Node& dir,
                 bool outcome_only, qcow2::TextSink& out) {
  std::vector<Node> children;
  tree.list(dir, 0, [&](std::string_view name, const Node& n, uint64_t) {
    if (!tree.exists(n) || tree.parent(n) != dir) __builtin_trap();  // listed means reachable
    if (auto back = tree.lookup(dir, name); !back || *back != n) __builtin_trap();
    children.push_back(n);
    return children.size() < kMaxPerDir || dir.kind == Kind::kRoot;
  });
  for (const Node& n : children) {
    if (qcow2fs::Tree::is_dir(n)) {
      render_tree(tree, o, n, outcome_only, out);
    } else if (outcome_only && !qcow2fs::uses_check(n.kind)) {
      continue;
    } else if (n.kind == Kind::kStatus) {
      out.write(qcow2fs::status_line(o, 100));
    } else {
      out.write(qcow2fs::render_node(tree, o, n));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  auto opened = qcow2::Image::open(qcow2fuzz::write_image(data, size));
  if (!opened.ok()) return 0;
  const qcow2fs::Tree tree(std::move(opened).value());
  const qcow2::Image& img = tree.image();
  qcow2::StringSink out;
  render_tool_views(img, out);

  qcow2fs::CheckOutcome outcome;
  outcome.result.emplace(qcow2::check_image(img));
  require_same_as_entry_by_entry(img, *outcome.result);
  if (const qcow2::CheckResult* r = outcome.ok()) {
    outcome.findings = std::make_unique<qcow2::FindingIndex>(r->findings);
    render_check_views(img, *r, out);
  }
  render_tree(tree, &outcome, Node{}, false, out);
  // The files that change with the check, as the mount serves them while it still runs.
  render_tree(tree, nullptr, Node{}, true, out);
  qcow2fuzz::clear_image();
  return 0;
}
