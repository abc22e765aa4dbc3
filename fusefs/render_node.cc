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
#include "engine/format/l1_entry.h"
#include "engine/render/table_text.h"
#include "engine/util/escape.h"
#include "engine/walk/guest_map.h"
#include "engine/walk/table_walk.h"

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

// The structures an L2 pointer must not lie in: the check's layout when it can be built.
const qcow2::ClaimMap& claims_of(const Tree& tree) {
  const qcow2::Layout* l = tree.layout();
  return l ? l->claims() : tree.image().claims();
}

// Why the check has no result to show.
std::string check_failure(const CheckOutcome* o) {
  if (!o || !o->result) return "the check did not run";
  return fmt::format("the check failed: {}", qcow2::escape_text(o->result->status().message()));
}

std::string render_map(const Tree& tree) {
  const qcow2::Image& img = tree.image();
  auto l1 = tree.l1_table(0);
  if (!l1.ok()) return qcow2::error_line(l1.status().message());
  auto extents = qcow2::guest_map(img, img.header().l1_table_offset, *l1, &claims_of(tree));
  if (!extents.ok()) return qcow2::error_line(extents.status().message());
  StringSink out;
  qcow2::render_guest_map(*extents, out);
  return out.take();
}

// The L2 table an L1 entry names, once its pointer is known to be sound: never a table in
// another structure (one role per cluster).
std::string render_l2(const Tree& tree, const qcow2::FindingIndex* findings, const Node& n) {
  const qcow2::Image& img = tree.image();
  auto raw = tree.l1_slice(n.snap, n.index, 1);
  if (!raw.ok() || raw->size() != 1)
    return qcow2::error_line(raw.ok() ? "no such L1 entry" : raw.status().message());
  const qcow2::L1Entry e = qcow2::decode_l1_entry((*raw)[0], img.geometry());
  if (!e.used())
    return qcow2::error_line(fmt::format("L1 entry {} (0x{:x}) points at no L2 table", n.index, e.raw));
  if (const std::string why = qcow2::l2_pointer_problem(e, img.geometry(), img.file_size(), claims_of(tree));
      !why.empty())
    return qcow2::error_line(fmt::format("L1 entry {} (0x{:x}): {}: the table is not read", n.index, e.raw, why));
  std::vector<uint8_t> table;
  if (qcow2::Status st = img.read_cluster(e.l2_offset, table); !st.ok())
    return qcow2::error_line(fmt::format("L2 table at 0x{:x}: {}", e.l2_offset, st.message()));
  StringSink out;
  qcow2::render_l2_table(img, n.index, e.l2_offset, table, findings, out);
  return out.take();
}

// A refcount block the layout accepts (distinct, inside the file, owned by nothing else).
std::string render_block(const Tree& tree, const qcow2::RefCounter* counts, const Node& n) {
  const qcow2::Layout* layout = tree.layout();
  if (!layout) return qcow2::error_line(tree.refcount_table().ok() ? "the tables cannot be read"
                                                                   : tree.refcount_table().status().message());
  if (std::string why = layout->block_problem(n.index); !why.empty()) return qcow2::error_line(why);
  const uint64_t offset = layout->reftable()[n.index] & ~qcow2::kRefTableReservedMask;
  std::vector<uint8_t> block;
  if (qcow2::Status st = tree.image().read_cluster(offset, block); !st.ok())
    return qcow2::error_line(fmt::format("refcount block at 0x{:x}: {}", offset, st.message()));
  StringSink out;
  qcow2::render_refcount_block(tree.image(), n.index, block, counts, out);
  return out.take();
}

std::string render_report(const Tree& tree, const CheckOutcome* o, bool json) {
  const qcow2::CheckResult* r = o ? o->ok() : nullptr;
  if (!r) {
    if (json) return qcow2::json_text(nlohmann::json{{"error", check_failure(o)}}, 2) + "\n";
    return qcow2::error_line(check_failure(o));
  }
  if (json) return qcow2::json_text(qcow2::check_to_json(tree.image(), *r), 2) + "\n";
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
      qcow2::render_snapshot_info(*tree.snapshot(n.snap), tree.snapshot_dir_name(n.snap),
                                  tree.snapshot_name_note(n.snap), tree.snapshot_l1_problem(n.snap), out);
      break;
    case Kind::kL1: {
      auto l1 = tree.l1_table(n.snap);
      if (!l1.ok()) return qcow2::error_line(l1.status().message());
      qcow2::render_l1_table(img, claims_of(tree), tree.l1_offset(n.snap), *l1, findings, out);
      break;
    }
    case Kind::kL2: return render_l2(tree, findings, n);
    case Kind::kL2Error: return qcow2::error_line(tree.l1_slice(n.snap, 0, 0).status().message());
    case Kind::kRefTable: {
      const auto& table = tree.refcount_table();
      if (!table.ok()) return qcow2::error_line(table.status().message());
      if (!tree.layout()) return qcow2::error_line("the tables cannot be read");
      qcow2::render_refcount_table(img, *tree.layout(), findings, out);
      break;
    }
    case Kind::kRefBlock: {
      const qcow2::CheckResult* r = o ? o->ok() : nullptr;
      return render_block(tree, r ? r->counts.get() : nullptr, n);
    }
    case Kind::kMap: return render_map(tree);
    case Kind::kClusters: {
      const qcow2::CheckResult* r = o ? o->ok() : nullptr;
      if (!r) return qcow2::error_line(check_failure(o));
      auto runs = qcow2::cluster_roles(img, *r);
      if (!runs.ok())
        return qcow2::error_line(img.walkable() ? runs.status().message()
                                                : "no cluster is classified: " + img.walk_status().message());
      qcow2::render_cluster_map(*runs, img.geometry().cluster_bits, out);
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
