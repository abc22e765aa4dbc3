#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// Never waits for the check: libfuse 3.14 does not ask the kernel for parallel directory
// operations (do_init never sends FUSE_PARALLEL_DIROPS), so while one lookup in a directory is
// unanswered the kernel holds every other lookup there, `cat header` included. A file that
// needs the check is answered without its size and with attributes valid for no time; the
// getattr that every stat then sends is the request that waits (parked, op_getattr.cc).
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target dir;
    if (int err = resolve(fs, parent, dir)) return (void)fuse_reply_err(req, err);
    if (!Tree::is_dir(dir.node)) return (void)fuse_reply_err(req, ENOTDIR);
    View& v = *dir.view;
    fuse_entry_param e{};
    e.entry_timeout = kEntryTimeout;
    auto n = v.tree.lookup(dir.node, name);
    if (!n) {
      // ino 0: a negative entry the kernel may remember, since names never appear within a
      // view (a new view drops the directories they were looked up in).
      fuse_reply_entry(req, &e);
      return;
    }
    e.ino = v.ino(*n);
    if (needs_check(n->kind) && !v.check.done()) {
      e.attr = unmeasured_attr_of(fs, v, *n);
      e.attr_timeout = 0.0;
    } else {
      e.attr = attr_of(fs, v, *n);
      e.attr_timeout = attr_timeout(*n, v);
    }
    // Counted before the reply: the kernel may forget it as soon as it has it.
    fs.known.add(e.ino);
    if (fuse_reply_entry(req, &e) != 0) fs.known.forget(e.ino, 1);
  });
}

}  // namespace qcow2fs
