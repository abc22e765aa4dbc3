#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// Truncate, chmod, chown and utimes: nothing in the tree can be changed.
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int, fuse_file_info*) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    fuse_reply_err(req, refuse_change(fs));
  });
}

}  // namespace qcow2fs
