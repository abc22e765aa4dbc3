#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    // Through an open handle: the size of that handle's text.
    const auto name = node_of(ino);
    if (fi && fi->fh && name && !Tree::is_dir(name->node)) {
      const auto& open = *reinterpret_cast<const OpenFile*>(fi->fh);
      const struct stat st = attr_of(fs, ino, open);
      return (void)fuse_reply_attr(req, &st, open.content.final ? kEntryTimeout : 0.0);
    }
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    const struct stat st = attr_of(fs, *t.view, t.node);
    fuse_reply_attr(req, &st, attr_timeout(t.node, *t.view));
  });
}

}  // namespace qcow2fs
