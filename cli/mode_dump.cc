// -m dump: the info block, then every entry of the selected L1/L2 tables and of the refcount
// structures, streamed to stdout.
#include <fmt/format.h>
#include <unistd.h>

#include <map>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/report.h"
#include "cli/session.h"
#include "cli/snapshot_select.h"
#include "engine/check/layout.h"
#include "engine/render/dump_text.h"
#include "engine/render/header_text.h"
#include "engine/render/snapshot_text.h"

namespace qcow2::cli {
namespace {

// A read failure in the middle of a dump: the file went away or the disk failed.
Verdict read_failure(const Image& img, const Status& st) {
  return {st.code() == Code::kIOError ? kExitCannotOpen : kExitInternal,
          fmt::format("{}: {}", img.path(), st.message())};
}

// Where a target's entries come from: the layout's decoded table, or its reason why not.
L1Dump dump_source(const Layout& layout, const L1Target& t) {
  L1Dump d{t.title, t.offset, t.entries, nullptr, {}, {}};
  if (!t.snapshot) {
    d.entries = &layout.active_l1().entries;
    return d;
  }
  static const std::vector<uint64_t> kEmpty;
  const TableVerdict& v = layout.snapshot_l1(t.snapshot->index);
  if (!v.ok()) d.problem = v.problem;
  else d.entries = v.table >= 0 ? &layout.l1_tables()[static_cast<size_t>(v.table)].entries : &kEmpty;
  return d;
}

}  // namespace

int run_dump(const Options& opt) {
  std::unique_ptr<Image> img;
  if (auto code = open_image(opt, img)) return *code;
  std::vector<L1Target> targets;
  if (img->walkable()) {
    auto sel = select_l1_tables(*img, opt.snapshot);
    if (!sel.ok()) return fail(kExitUsage, sel.status().message());
    targets = std::move(sel).value();
  }
  FileSink out(stdout);
  const Style st(opt.color(::isatty(STDOUT_FILENO)));
  render_header(*img, st, out);
  if (!img->walkable()) {
    std::fflush(stdout);
    return fail(kExitHeader, fmt::format("{}: {}", img->path(), img->walk_status().message()));
  }
  // Every table is judged once, by the layout the check uses: a pointer into another structure
  // is not followed here either.
  auto layout = Layout::build(*img);
  if (!layout.ok()) return finish(out, read_failure(*img, layout.status()));
  render_snapshots(*img, st, out, &*layout);
  render_bitmaps(*img, st, out);
  Verdict verdict = image_verdict(*img);
  const DumpOptions dopt{opt.flags};
  ShownTables shown;  // an L2 table shared by several L1 entries is printed once
  std::vector<L1Dump> sources;
  std::map<const std::vector<uint64_t>*, std::string> first_section;  // each decoded L1 table once
  for (const L1Target& t : targets) {
    L1Dump d = dump_source(*layout, t);
    if (d.entries && !d.entries->empty()) {
      auto [it, fresh] = first_section.try_emplace(d.entries, t.title);
      if (fresh) shown.count(*d.entries);
      else d.same_as = it->second;
    }
    sources.push_back(std::move(d));
  }
  if (opt.print_tables()) {
    for (size_t k = 0; k < targets.size(); ++k) {
      const L1Target& t = targets[k];
      out.write("\n");
      Status s = render_l1_dump(*img, *layout, sources[k], shown, dopt, st, out);
      if (s.ok()) continue;
      // A snapshot whose L1 table cannot be read is a damaged snapshot table entry.
      if (t.snapshot && s.code() != Code::kIOError)
        verdict.merge({kExitSnapshotTable, fmt::format("{}: {}: {}", img->path(), t.title, s.message())});
      else
        return finish(out, read_failure(*img, s));
    }
  }
  if (opt.print_refcounts()) {
    out.write("\n");
    Status s = render_refcount_dump(*img, *layout, dopt, st, out);
    if (!s.ok()) return finish(out, read_failure(*img, s));
  }
  return finish(out, verdict);
}

}  // namespace qcow2::cli
