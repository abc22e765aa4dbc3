#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    if (!Tree::is_dir(t.node)) return (void)fuse_reply_err(req, ENOTDIR);
    // Listings never change within a view: the kernel may keep them (a new view has the
    // directories' names dropped, and the root's listing).
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
  });
}

}  // namespace qcow2fs
