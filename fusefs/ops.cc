#include "fusefs/ops.h"

namespace qcow2fs {

const fuse_lowlevel_ops& operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.lookup = op_lookup;
    o.getattr = op_getattr;
    o.readlink = op_readlink;
    o.setattr = op_setattr;
    o.opendir = op_opendir;
    o.readdir = op_readdir;
    o.open = op_open;
    o.read = op_read;
    o.write = op_write;
    o.release = op_release;
    o.statfs = op_statfs;
    o.mknod = op_mknod;
    o.mkdir = op_mkdir;
    o.unlink = op_unlink;
    o.rmdir = op_rmdir;
    o.symlink = op_symlink;
    o.rename = op_rename;
    o.link = op_link;
    o.create = op_create;
    o.setxattr = op_setxattr;
    o.removexattr = op_removexattr;
    o.fallocate = op_fallocate;
    // Inode numbers are computed, but the mount tracks which ones the kernel holds, to have
    // their names dropped when the image changes.
    o.forget = op_forget;
    o.forget_multi = op_forget_multi;
    return o;
  }();
  return ops;
}

}  // namespace qcow2fs
