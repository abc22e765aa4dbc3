#include "fusefs/attr.h"

namespace qcow2fs {

std::optional<Node> existing(Fs& fs, fuse_ino_t ino) {
  auto n = node_of(ino);
  if (!n || !fs.tree.exists(*n)) return std::nullopt;
  return n;
}

struct stat attr_of(Fs& fs, const Node& n, const OpenFile* open) {
  struct stat st {};
  st.st_ino = ino_of(n);
  st.st_uid = fs.uid;
  st.st_gid = fs.gid;
  st.st_blksize = 4096;
  if (Tree::is_dir(n)) {
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
    st.st_mtime = st.st_ctime = st.st_atime = fs.mount_time;
    return st;
  }
  const Content c = open ? open->content : content_of(fs, n);
  st.st_mode = S_IFREG | 0444;
  st.st_nlink = 1;
  st.st_size = static_cast<off_t>(c.text->size());
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_mtime = st.st_ctime = st.st_atime = c.mtime;
  return st;
}

double attr_timeout(const Node& n, Fs& fs) {
  if (Tree::is_dir(n)) return kEntryTimeout;
  return uses_check(n.kind) && !fs.check.done() ? 0.0 : kEntryTimeout;
}

}  // namespace qcow2fs
