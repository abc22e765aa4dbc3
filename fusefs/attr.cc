#include "fusefs/attr.h"

namespace qcow2fs {
namespace {

struct stat base_attr(Fs& fs, uint64_t ino, bool dir) {
  struct stat st {};
  st.st_ino = ino;
  st.st_uid = fs.uid;
  st.st_gid = fs.gid;
  st.st_blksize = 4096;
  st.st_mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444;
  st.st_nlink = dir ? 2 : 1;
  return st;
}

void set_times(struct stat& st, std::time_t t) { st.st_mtime = st.st_ctime = st.st_atime = t; }

void set_text(struct stat& st, const Content& c) {
  st.st_size = static_cast<off_t>(c.text->size());
  st.st_blocks = (st.st_size + 511) / 512;
  set_times(st, c.mtime);
}

}  // namespace

int resolve(Fs& fs, fuse_ino_t ino, Target& out) {
  const auto name = node_of(ino);
  if (!name) return ENOENT;
  out.view = fs.view();
  if (!out.view) return ESTALE;  // the mount is ending
  if (ino != 1 && name->gen != out.view->generation) return ESTALE;
  if (!out.view->tree.exists(name->node)) return ENOENT;
  out.node = name->node;
  return 0;
}

struct stat attr_of(Fs& fs, View& v, const Node& n) {
  struct stat st = base_attr(fs, v.ino(n), Tree::is_dir(n));
  if (Tree::is_dir(n)) {
    set_times(st, v.made_at);
  } else if (const std::string link = v.tree.l2_link(n.snap, n.index); n.kind == Kind::kL2 && !link.empty()) {
    st.st_mode = S_IFLNK | 0777;
    st.st_size = static_cast<off_t>(link.size());
    set_times(st, v.made_at);
  } else {
    set_text(st, content_of(fs, v, n));
  }
  return st;
}

struct stat attr_of(Fs& fs, fuse_ino_t ino, const OpenFile& open) {
  struct stat st = base_attr(fs, ino, false);
  set_text(st, open.content);
  return st;
}

struct stat unmeasured_attr_of(Fs& fs, View& v, const Node& n) {
  struct stat st = base_attr(fs, v.ino(n), false);
  set_times(st, std::time(nullptr));
  return st;
}

double attr_timeout(const Node& n, View& v) {
  if (Tree::is_dir(n)) return kEntryTimeout;
  if (n.kind == Kind::kStatus) return 0.0;  // changes whenever the check or the image does
  return uses_check(n.kind) && !v.check.done() ? 0.0 : kEntryTimeout;
}

}  // namespace qcow2fs
