#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    auto dir = existing(fs, parent);
    if (!dir) return (void)fuse_reply_err(req, ENOENT);
    if (!Tree::is_dir(*dir)) return (void)fuse_reply_err(req, ENOTDIR);
    fuse_entry_param e{};
    e.entry_timeout = kEntryTimeout;
    auto n = fs.tree.lookup(*dir, name);
    if (!n) {
      // ino 0: a negative entry the kernel may remember, since names never appear later.
      fuse_reply_entry(req, &e);
      return;
    }
    e.ino = ino_of(*n);
    e.attr = attr_of(fs, *n);
    e.attr_timeout = attr_timeout(*n, fs);
    fuse_reply_entry(req, &e);
  });
}

}  // namespace qcow2fs
