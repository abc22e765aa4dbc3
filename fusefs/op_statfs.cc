#include <sys/statvfs.h>

#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// A generated tree has no free space and no inode limit; report the image's size so df shows
// something meaningful, and the name limit tools ask for.
void op_statfs(fuse_req_t req, fuse_ino_t) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    const std::shared_ptr<View> v = fs.view();
    struct statvfs st {};
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_blocks = v ? (v->tree.image().file_size() + 4095) / 4096 : 0;
    st.f_namemax = 255;
    st.f_flag = fs.config.read_only ? ST_RDONLY : 0;
    fuse_reply_statfs(req, &st);
  });
}

}  // namespace qcow2fs
