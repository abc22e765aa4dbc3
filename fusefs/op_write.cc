#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// A command to a control file: run at once, and its verdict is this write's (control.h). The
// file offset is ignored (each write is one whole command, `>>` included). Through the handle,
// not the inode's view: a handle opened before a repair replaced the view takes commands still.
void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t, fuse_file_info* fi) {
  guarded(req, [&] {
    Fs& fs = fs_of(req);
    const auto* open = fi ? reinterpret_cast<const OpenFile*>(fi->fh) : nullptr;
    // Only command files are opened for writing (op_open.cc); anything else is the kernel's
    // mistake, answered as any change.
    if (!open || !is_command_file(open->node)) return (void)fuse_reply_err(req, refuse_change(fs));
    if (int err = fs.control.run(fs, open->node.index, std::string_view(buf, size)))
      return (void)fuse_reply_err(req, err);
    fuse_reply_write(req, size);
  });
}

}  // namespace qcow2fs
