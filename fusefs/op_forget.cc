// The kernel drops inodes it held: the set of known inodes (known_inodes.h) shrinks with it.
#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  fs_of(req).known.forget(ino, nlookup);
  fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  KnownInodes& known = fs_of(req).known;
  for (size_t i = 0; i < count; ++i) known.forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

}  // namespace qcow2fs
