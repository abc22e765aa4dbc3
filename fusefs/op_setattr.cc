#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {
namespace {

// What truncate(1) asks of a file: a size, and perhaps its times to be set to now.
constexpr int kTruncateBits = FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME |
                              FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW;

bool truncates_to_zero(const struct stat* attr, int to_set) {
  return (to_set & FUSE_SET_ATTR_SIZE) && (to_set & ~kTruncateBits) == 0 && attr->st_size == 0;
}

}  // namespace

// Truncate, chmod, chown and utimes: nothing in the tree can be changed. Only `truncate -s 0`
// of a control file is taken (and does nothing): a control file holds no bytes to cut, and
// tools that empty a file before writing to it must not fail there.
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    // ftruncate: through the handle, which stays a control file's whatever view came since.
    if (const auto* open = fi && fi->fh ? reinterpret_cast<const OpenFile*>(fi->fh) : nullptr;
        open && is_command_file(open->node) && truncates_to_zero(attr, to_set)) {
      const struct stat st = attr_of(fs, ino, *open);
      return (void)fuse_reply_attr(req, &st, 0.0);
    }
    Target t;
    if (int err = resolve(fs, ino, t)) return (void)fuse_reply_err(req, err);
    if (is_command_file(t.node) && truncates_to_zero(attr, to_set)) {
      const struct stat st = attr_of(fs, *t.view, t.node);
      return (void)fuse_reply_attr(req, &st, 0.0);
    }
    fuse_reply_err(req, refuse_change(fs));
  });
}

}  // namespace qcow2fs
