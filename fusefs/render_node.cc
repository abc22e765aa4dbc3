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
#include "engine/repair/command.h"
#include "engine/util/escape.h"
#include "fusefs/control.h"
#include "engine/walk/guest_map.h"
#include "engine/walk/table_walk.h"

namespace qcow2fs {
namespace {

using qcow2::StringSink;

constexpr const char* kCtlReadmeReadOnly =
    "Control files of this mount.\n"
    "\n"
    "This is a read-only mount (the default, -o ro): the image is never written and ctl/ holds\n"
    "only this file. Every write, create or truncate anywhere in the tree fails with EROFS.\n"
    "Mount with -o rw to get the control files that repair the image (man qcow2fs).\n";

// ctl/README of a read-write mount: the files, the grammar (the engine's, as the parser
// takes it), the errors and examples.
std::string ctl_readme() {
  return fmt::format(
      "Control files of this mount (-o rw): writing a command to one repairs the image.\n"
      "\n"
      "Write one command per write(): `echo all > ctl/repair` is one. The write returns when the\n"
      "command is done, and fails when it is refused, with nothing written to the image:\n"
      "  EINVAL      a bad command (a word, a number, too long: at most {} bytes), or one that\n"
      "              does not fit the image\n"
      "  ENOENT      an unknown snapshot, table entry or header field, or a missing file\n"
      "  EBUSY       another command is running (a second write to the same file waits for\n"
      "              the first instead), or a QEMU process (a VM, qemu-io, qemu-img) holds the\n"
      "              image's locks\n"
      "  EOPNOTSUPP  a repair this version does not do\n"
      "  EROFS       the image cannot be written (or the mount is read-only)\n"
      "  EACCES      the mount's user may not write the image file\n"
      "  EIO         it failed while it wrote (ctl/error says whether the image was put back),\n"
      "              or anything else\n"
      "ctl/error then says why, in one line.\n"
      "\n"
      "Each command runs as `qcow2-dump` runs it: under QEMU's locks, the image is checked, the\n"
      "repair planned and validated, then applied with an undo journal beside the image, and\n"
      "checked again. The image is opened for writing only meanwhile. When the write returns,\n"
      "every file of the mount shows the new state (status says what was repaired) under new\n"
      "inode numbers (the root's excepted); a file open before keeps its old text, and a\n"
      "directory open before (a listing in progress, a shell's current directory) gives ESTALE.\n"
      "\n"
      "Commands (numbers decimal or 0x-hex; relative file names are relative to the image's\n"
      "directory):\n"
      "{}"
      "The word 'destructive' lets a repair take the steps that may lose data: free leaked\n"
      "clusters that hold data (perhaps what a damaged table lost), clear the dirty bit with\n"
      "damage left. Without it they are listed in the plan as skipped.\n"
      "\n"
      "Files:\n"
      "  repair snapshot bits patch copy undo\n"
      "           write a command here; reading one shows its grammar\n"
      "  plan     the plan of the last command (a dry run's too), as qcow2-dump --dry-run prints it\n"
      "  error    why the last command was refused or failed, one line; empty after one that\n"
      "           worked\n"
      "  journal  the undo journal of the last applied command\n"
      "  last     the last command and what became of it (running, applied, dry run, nothing\n"
      "           to do, refused, failed)\n"
      "\n"
      "Examples:\n"
      "  echo plan all > ctl/repair && cat ctl/plan     # what `all` would do; writes nothing\n"
      "  echo all > ctl/repair || cat ctl/error          # leaks and errors, as -R all\n"
      "  echo rebuild > ctl/repair                       # a new refcount structure\n"
      "  echo \"$(cat ctl/journal)\" > ctl/undo            # the image back as it was\n"
      "  echo delete s1 > ctl/snapshot\n"
      "  echo clear dirty > ctl/bits\n"
      "  echo l2 0 5 0 > ctl/patch                       # L2 table 0, entry 5, set to 0\n"
      "  echo 0x50000 0x70000 65536 > ctl/copy           # one cluster copied inside the image\n",
      kMaxCommandBytes, qcow2::control_grammar());
}

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
    case Kind::kCtlReadme: return tree.controls() ? ctl_readme() : kCtlReadmeReadOnly;
    default: break;  // directories and status have no text here
  }
  return out.take();
}

}  // namespace qcow2fs
