#include <fcntl.h>

#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {
namespace {

// Renders the whole file (or shares the rendering other handles hold) and keeps it in the
// handle: every read through this handle sees the same text, and its size is exactly what
// getattr reported.
void open_file(Fs& fs, View& v, const Node& n, fuse_req_t req, fuse_file_info fi) {
  auto file = std::make_unique<OpenFile>(OpenFile{n, content_of(fs, v, n)});
  const bool final = file->content.final;
  const auto fh = fs.open_files.add(std::move(file));
  if (!fh) return (void)fuse_reply_err(req, ENOMEM);  // past -o max_open_text
  fi.fh = *fh;
  fi.keep_cache = 0;
  // Final text is the same for every handle of this inode, so the page cache may serve it
  // (mmap, tar). Text that changes when the check finishes bypasses it: a cache page filled
  // through one handle must never be read through another that holds a different rendering.
  fi.direct_io = final ? 0 : 1;
  if (fuse_reply_open(req, &fi) != 0) fs.open_files.release(*fh);  // no release follows
}

}  // namespace

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    if (Tree::is_dir(t.node)) return (void)fuse_reply_err(req, EISDIR);
    // Only a control file takes writes (a command each: op_write.cc). O_TRUNC is how a shell's
    // `echo cmd > ctl/repair` opens it; it truncates nothing (the file shows its grammar).
    if (((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) && !is_command_file(t.node))
      return (void)fuse_reply_err(req, refuse_change(fs));
    if (!needs_check(t.node.kind)) return open_file(fs, *t.view, t.node, req, *fi);
    // See op_getattr.cc for why the view is held by a raw pointer.
    View* v = t.view.get();
    fs.parking.when_checked(req, v->check, [&fs, v, n = t.node, copy = *fi](fuse_req_t r, const CheckOutcome&) {
      open_file(fs, *v, n, r, copy);
    });
  });
}

}  // namespace qcow2fs
