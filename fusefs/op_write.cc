#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// No file is opened for writing (open refuses), so a write only arrives if the kernel is
// wrong about that; answer as for any change.
void op_write(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) {
  fuse_reply_err(req, refuse_change(fs_of(req)));
}

}  // namespace qcow2fs
