// Fuzz target: a whole image file, through everything a user can ask of it: Image::open, the
// check and its text and JSON reports, qcow2-dump's info and dump output, the guest map, and
// the mounted tree's files (rendered through the Tree model exactly as the mount does, with
// the check's outcome as the mount would have it, but without FUSE).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/check/checker.h"
#include "engine/render/check_json.h"
#include "engine/render/check_text.h"
#include "engine/render/dump_text.h"
#include "engine/render/header_text.h"
#include "engine/render/map_text.h"
#include "engine/render/snapshot_text.h"
#include "engine/render/text_sink.h"
#include "engine/walk/guest_map.h"
#include "fusefs/render_node.h"
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
  const qcow2::DumpOptions opt{true};
  const auto& h = img.header();
  (void)qcow2::render_l1_dump(img, qcow2::active_section_title(), h.l1_table_offset, h.l1_size, opt, st, out);
  const auto& snaps = img.snapshots().snapshots;
  for (size_t i = 0; i < snaps.size() && i < kMaxSnapshots; ++i)
    (void)qcow2::render_l1_dump(img, qcow2::snapshot_section_title(snaps[i]), snaps[i].l1_table_offset,
                                snaps[i].l1_size, opt, st, out);
  (void)qcow2::render_refcount_dump(img, opt, st, out);
  if (auto l1 = img.read_active_l1(); l1.ok())
    if (auto map = qcow2::guest_map(img, h.l1_table_offset, *l1); map.ok()) qcow2::render_guest_map(*map, out);
}

// The check's reports, as qcow2-dump prints them and as the mount serves them.
void render_check_views(const qcow2::Image& img, const qcow2::CheckResult& r, qcow2::TextSink& out) {
  qcow2::CheckTextOptions opt;
  qcow2::render_check(img, r, opt, qcow2::Style(false), out);
  opt.errors = true;
  qcow2::render_check(img, r, opt, qcow2::Style(true), out);
  qcow2::render_status_banner(r, img.path(), qcow2::Style(false), out);
  out.write(qcow2::check_to_json(img, r).dump());
  qcow2::render_cluster_map(img, r, out);
}

// Renders every file of `dir` (up to kMaxPerDir of each directory, depth first).
void render_tree(const qcow2fs::Tree& tree, const qcow2fs::CheckOutcome* o, const Node& dir,
                 qcow2::TextSink& out) {
  std::vector<Node> children;
  tree.list(dir, 0, [&](std::string_view name, const Node& n, uint64_t) {
    if (!tree.exists(n) || tree.parent(n) != dir) __builtin_trap();  // listed means reachable
    if (auto back = tree.lookup(dir, name); !back || *back != n) __builtin_trap();
    children.push_back(n);
    return children.size() < kMaxPerDir || dir.kind == Kind::kRoot;
  });
  for (const Node& n : children) {
    if (qcow2fs::Tree::is_dir(n)) {
      render_tree(tree, o, n, out);
    } else if (n.kind == Kind::kStatus) {
      out.write(qcow2fs::render_status(o, 100));
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
  if (const qcow2::CheckResult* r = outcome.ok()) {
    outcome.findings = std::make_unique<qcow2::FindingIndex>(r->findings);
    render_check_views(img, *r, out);
  }
  render_tree(tree, &outcome, Node{}, out);
  // The same files before the check has finished, as the mount serves them while it runs.
  render_tree(tree, nullptr, Node{}, out);
  qcow2fuzz::clear_image();
  return 0;
}
