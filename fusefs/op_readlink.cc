#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// The l2 file of a pointer whose L2 table an earlier pointer names too is a link to that one's
// file (Tree::l2_link): the table is shown once.
void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    const std::string link = t.node.kind == Kind::kL2 ? t.view->tree.l2_link(t.node.snap, t.node.index) : "";
    if (link.empty()) return (void)fuse_reply_err(req, EINVAL);
    fuse_reply_readlink(req, link.c_str());
  });
}

}  // namespace qcow2fs
