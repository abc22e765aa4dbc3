#include "fusefs/content.h"

#include "fusefs/ctl_files.h"
#include "fusefs/render_node.h"
#include "fusefs/status_text.h"

namespace qcow2fs {

bool needs_check(Kind k) { return k == Kind::kClusters || k == Kind::kReportTxt || k == Kind::kReportJson; }

bool uses_check(Kind k) {
  switch (k) {
    case Kind::kL1:
    case Kind::kL2:
    case Kind::kRefTable:
    case Kind::kRefBlock:
    case Kind::kClusters:
    case Kind::kReportTxt:
    case Kind::kReportJson:
    case Kind::kStatus: return true;
    default: return false;
  }
}

Content content_of(Fs& fs, View& v, const Node& n) {
  if (n.kind == Kind::kStatus) {
    // Changes with every percent: never cached, and dated now.
    return {std::make_shared<const std::string>(status_text(fs, v)), false, std::time(nullptr)};
  }
  if (n.kind == Kind::kCtlFile) {
    // The last command's outcome, from the mount rather than the view: it outlives the view the
    // command replaced. Never final (a command changes it), so handles bypass the page cache.
    return {std::make_shared<const std::string>(fs.control.text(n.index)), false, fs.control.changed_at()};
  }
  const CheckOutcome* o = v.check.done();
  const bool dependent = uses_check(n.kind);
  // Generation 0: rendered before the check finished; such text is replaced once it has.
  const uint64_t generation = dependent && !o ? 0 : 1;
  auto text = v.cache.get(v.ino(n), generation, [&] { return render_node(v.tree, o, n); });
  return {std::move(text), !dependent || o != nullptr, dependent && o ? o->finished_at : v.made_at};
}

}  // namespace qcow2fs
