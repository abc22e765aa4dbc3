#include "fusefs/attr.h"

#include "fusefs/ctl_files.h"

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

// The control files one writes commands to are writable by the mount's owner; the rest of the
// tree is read-only (a read-write mount refuses changes to it with EACCES).
void set_mode(struct stat& st, const Node& n) {
  if (is_command_file(n)) st.st_mode = S_IFREG | 0644;
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
    set_mode(st, n);
  }
  return st;
}

struct stat attr_of(Fs& fs, fuse_ino_t ino, const OpenFile& open) {
  struct stat st = base_attr(fs, ino, false);
  set_text(st, open.content);
  set_mode(st, open.node);
  return st;
}

struct stat unmeasured_attr_of(Fs& fs, View& v, const Node& n) {
  struct stat st = base_attr(fs, v.ino(n), false);
  set_times(st, std::time(nullptr));
  return st;
}

bool is_command_file(const Node& n) { return n.kind == Kind::kCtlFile && ctl_is_command(n.index); }

double attr_timeout(const Node& n, View& v) {
  if (Tree::is_dir(n)) return kEntryTimeout;
  // Change whenever the check, the image or a command does.
  if (n.kind == Kind::kStatus || n.kind == Kind::kCtlFile) return 0.0;
  return uses_check(n.kind) && !v.check.done() ? 0.0 : kEntryTimeout;
}

}  // namespace qcow2fs
