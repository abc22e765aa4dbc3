#include <fcntl.h>

#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// Renders the whole file now and keeps it in the handle: every read through this handle sees
// the same text, and its size is exactly what getattr reported.
void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    auto n = existing(fs, ino);
    if (!n) return (void)fuse_reply_err(req, ENOENT);
    if (Tree::is_dir(*n)) return (void)fuse_reply_err(req, EISDIR);
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
      return (void)fuse_reply_err(req, refuse_change(fs));
    auto file = std::make_unique<OpenFile>(OpenFile{*n, content_of(fs, *n)});
    const OpenFile* open = file.get();
    fi->fh = fs.open_files.add(std::move(file));
    fi->keep_cache = 0;
    // Final text is the same for every handle, so the page cache may serve it (mmap, tar).
    // Text that changes when the check finishes bypasses it: a cache page filled through one
    // handle must never be read through another that holds a different rendering.
    fi->direct_io = open->content.final ? 0 : 1;
    if (fuse_reply_open(req, fi) != 0) fs.open_files.release(fi->fh);  // no release follows
  });
}

}  // namespace qcow2fs
