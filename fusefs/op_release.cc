#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Housekeeper::Busy busy(fs_of(req).housekeeper);  // frees the handle's text: trim after it
  fs_of(req).open_files.release(fi->fh);
  fi->fh = 0;
  fuse_reply_err(req, 0);
}

}  // namespace qcow2fs
