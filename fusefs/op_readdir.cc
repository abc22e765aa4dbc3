#include <string>
#include <vector>

#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// Offsets (cookies): 1 after ".", 2 after "..", and 2 + the tree's position after a child, so
// a listing resumes in O(1) from any cookie and nothing is kept between calls. A listing that
// spans a change of the image ends with ESTALE: its directory belongs to the old view.
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    Target dir;
    if (int err = resolve(fs, ino, dir)) return (void)fuse_reply_err(req, err);
    if (!Tree::is_dir(dir.node)) return (void)fuse_reply_err(req, ENOTDIR);
    const View& v = *dir.view;
    std::vector<char> buf(size);
    size_t used = 0;
    auto add = [&](std::string_view name, const Node& n, uint64_t next) {
      const std::string s(name);
      struct stat st {};
      st.st_ino = v.ino(n);
      st.st_mode = Tree::is_dir(n) ? S_IFDIR : v.tree.is_link(n) ? S_IFLNK : S_IFREG;
      const size_t need = fuse_add_direntry(req, nullptr, 0, s.c_str(), nullptr, 0);
      if (used + need > size) return false;
      fuse_add_direntry(req, buf.data() + used, size - used, s.c_str(), &st, static_cast<off_t>(next));
      used += need;
      return true;
    };
    const uint64_t pos = static_cast<uint64_t>(off);
    bool room = true;
    if (pos == 0) room = add(".", dir.node, 1);
    if (room && pos <= 1) room = add("..", v.tree.parent(dir.node), 2);
    if (room)
      v.tree.list(dir.node, pos >= 2 ? pos - 2 : 0,
                  [&](std::string_view name, const Node& n, uint64_t next) { return add(name, n, next + 2); });
    fuse_reply_buf(req, buf.data(), used);
  });
}

}  // namespace qcow2fs
