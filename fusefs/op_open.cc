#include <fcntl.h>

#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// Renders the whole file now and keeps it in the handle: every read through this handle sees
// the same text, and its size is exactly what getattr reported.
void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    if (Tree::is_dir(t.node)) return (void)fuse_reply_err(req, EISDIR);
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
      return (void)fuse_reply_err(req, refuse_change(fs));
    auto file = std::make_unique<OpenFile>(OpenFile{t.node, content_of(fs, *t.view, t.node)});
    const bool final = file->content.final;
    fi->fh = fs.open_files.add(std::move(file));
    fi->keep_cache = 0;
    // Final text is the same for every handle of this inode, so the page cache may serve it
    // (mmap, tar). Text that changes when the check finishes bypasses it: a cache page filled
    // through one handle must never be read through another that holds a different rendering.
    fi->direct_io = final ? 0 : 1;
    if (fuse_reply_open(req, fi) != 0) fs.open_files.release(fi->fh);  // no release follows
  });
}

}  // namespace qcow2fs
