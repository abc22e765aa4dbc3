// Every operation that would create, remove, rename or change a node. The tree is generated
// from the image and has no writable node yet: EROFS on a read-only mount, EACCES otherwise.
#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {
namespace {

void refuse(fuse_req_t req) { fuse_reply_err(req, refuse_change(fs_of(req))); }

}  // namespace

void op_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { refuse(req); }
void op_mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { refuse(req); }
void op_unlink(fuse_req_t req, fuse_ino_t, const char*) { refuse(req); }
void op_rmdir(fuse_req_t req, fuse_ino_t, const char*) { refuse(req); }
void op_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { refuse(req); }
void op_rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned int) {
  refuse(req);
}
void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { refuse(req); }
void op_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) { refuse(req); }
void op_setxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { refuse(req); }
void op_removexattr(fuse_req_t req, fuse_ino_t, const char*) { refuse(req); }
void op_fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { refuse(req); }

}  // namespace qcow2fs
