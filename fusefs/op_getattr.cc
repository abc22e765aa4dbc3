#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    auto n = existing(fs, ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    // Through an open handle (fstat, and the kernel's size refresh before a read) the size is
    // that of the handle's own text, so a reader's view stays whole even if the file changed.
    const OpenFile* open =
        fi && fi->fh && !Tree::is_dir(*n) ? reinterpret_cast<const OpenFile*>(fi->fh) : nullptr;
    const struct stat st = attr_of(fs, *n, open);
    fuse_reply_attr(req, &st, attr_timeout(*n, fs));
  });
}

}  // namespace qcow2fs
