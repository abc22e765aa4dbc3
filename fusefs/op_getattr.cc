#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {
namespace {

void reply_attr(Fs& fs, View& v, const Node& n, fuse_req_t req) {
  const struct stat st = attr_of(fs, v, n);
  fuse_reply_attr(req, &st, attr_timeout(n, v));
}

}  // namespace

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    // Through an open handle: the size of that handle's text, whichever view it came from.
    const auto name = node_of(ino);
    if (fi && fi->fh && name && !Tree::is_dir(name->node)) {
      const auto& open = *reinterpret_cast<const OpenFile*>(fi->fh);
      const struct stat st = attr_of(fs, ino, open);
      return (void)fuse_reply_attr(req, &st, open.content.final ? kEntryTimeout : 0.0);
    }
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    if (!needs_check(t.node.kind)) return reply_attr(fs, *t.view, t.node, req);
    // A raw pointer: the answer runs in the view's own check thread (or here, where t holds
    // the view), and that thread must never hold the last reference to its view.
    View* v = t.view.get();
    fs.parking.when_checked(req, v->check,
                            [&fs, v, n = t.node](fuse_req_t r, const CheckOutcome&) { reply_attr(fs, *v, n, r); });
  });
}

}  // namespace qcow2fs
