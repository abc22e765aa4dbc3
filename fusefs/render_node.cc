#include "fusefs/render_node.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "engine/render/check_json.h"
#include "engine/render/check_text.h"
#include "engine/render/column_text.h"
#include "engine/render/extension_file_text.h"
#include "engine/render/header_table_text.h"
#include "engine/render/map_text.h"
#include "engine/render/refcount_text.h"
#include "engine/render/snapshot_info_text.h"
#include "engine/render/table_text.h"
#include "engine/walk/guest_map.h"

namespace qcow2fs {
namespace {

using qcow2::StringSink;

constexpr const char* kCtlReadme =
    "Control files of this mount.\n"
    "\n"
    "This directory will hold the files that change the image (repairs). This version has\n"
    "none: the mount is an inspection tool and never writes to the image, which is opened\n"
    "read-only. On a read-only mount (the default, -o ro) every write, create or truncate\n"
    "anywhere in the tree fails with EROFS.\n";

// Why the check has no result to show.
std::string check_failure(const CheckOutcome* o) {
  if (!o || !o->result) return "the check did not run";
  return fmt::format("the check failed: {}", o->result->status().message());
}

std::string render_map(const Tree& tree) {
  const qcow2::Image& img = tree.image();
  auto l1 = tree.l1_table(0);
  if (!l1.ok()) return qcow2::error_line(l1.status().message());
  auto extents = qcow2::guest_map(img, img.header().l1_table_offset, *l1);
  if (!extents.ok()) return qcow2::error_line(extents.status().message());
  StringSink out;
  qcow2::render_guest_map(*extents, out);
  return out.take();
}

std::string render_l2(const Tree& tree, const qcow2::FindingIndex* findings, const Node& n) {
  auto raw = tree.l1_slice(n.snap, n.index, 1);
  if (!raw.ok() || raw->size() != 1)
    return qcow2::error_line(raw.ok() ? "no such L1 entry" : raw.status().message());
  StringSink out;
  qcow2::render_l2_table(tree.image(), n.index, (*raw)[0], findings, out);
  return out.take();
}

std::string render_report(const Tree& tree, const CheckOutcome* o, bool json) {
  const qcow2::CheckResult* r = o ? o->ok() : nullptr;
  if (!r) {
    if (json) return nlohmann::json{{"error", check_failure(o)}}.dump(2) + "\n";
    return qcow2::error_line(check_failure(o));
  }
  if (json) return qcow2::check_to_json(tree.image(), *r).dump(2) + "\n";
  StringSink out;
  qcow2::CheckTextOptions opt;
  opt.errors = true;
  qcow2::render_check(tree.image(), *r, opt, qcow2::Style(false), out);
  return out.take();
}

}  // namespace

std::string render_node(const Tree& tree, const CheckOutcome* o, const Node& n) {
  const qcow2::Image& img = tree.image();
  const qcow2::FindingIndex* findings = o ? o->findings.get() : nullptr;
  StringSink out;
  switch (n.kind) {
    case Kind::kHeader: qcow2::render_header_table(img, out); break;
    case Kind::kFeatures: qcow2::render_features_table(img, out); break;
    case Kind::kExtension: qcow2::render_extension_file(img.extensions().all[n.index], out); break;
    case Kind::kSnapshotsError: return qcow2::error_line(tree.snapshots_error());
    case Kind::kSnapshotInfo:
      qcow2::render_snapshot_info(img, *tree.snapshot(n.snap), tree.snapshot_dir_name(n.snap),
                                  tree.snapshot_name_note(n.snap), out);
      break;
    case Kind::kL1: {
      auto l1 = tree.l1_table(n.snap);
      if (!l1.ok()) return qcow2::error_line(l1.status().message());
      qcow2::render_l1_table(img, tree.l1_offset(n.snap), *l1, findings, out);
      break;
    }
    case Kind::kL2: return render_l2(tree, findings, n);
    case Kind::kL2Error: return qcow2::error_line(tree.l1_slice(n.snap, 0, 0).status().message());
    case Kind::kRefTable: {
      const auto& table = tree.refcount_table();
      if (!table.ok()) return qcow2::error_line(table.status().message());
      qcow2::render_refcount_table(img, *table, findings, out);
      break;
    }
    case Kind::kRefBlock: {
      const qcow2::CheckResult* r = o ? o->ok() : nullptr;
      qcow2::render_refcount_block(img, n.index, (*tree.refcount_table())[n.index],
                                   r ? r->counts.get() : nullptr, out);
      break;
    }
    case Kind::kMap: return render_map(tree);
    case Kind::kClusters: {
      const qcow2::CheckResult* r = o ? o->ok() : nullptr;
      if (!r) return qcow2::error_line(check_failure(o));
      qcow2::render_cluster_map(img, *r, out);
      break;
    }
    case Kind::kReportTxt: return render_report(tree, o, false);
    case Kind::kReportJson: return render_report(tree, o, true);
    case Kind::kCtlReadme: return kCtlReadme;
    default: break;  // directories and status have no text here
  }
  return out.take();
}

}  // namespace qcow2fs
