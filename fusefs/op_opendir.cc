#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = fs_of(req);
  auto n = existing(fs, ino);
  if (!n) return (void)fuse_reply_err(req, ENOENT);
  if (!Tree::is_dir(*n)) return (void)fuse_reply_err(req, ENOTDIR);
  // Listings never change during a mount: the kernel may keep them.
  fi->cache_readdir = 1;
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

}  // namespace qcow2fs
