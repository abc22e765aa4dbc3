#include <algorithm>

#include "fusefs/attr.h"
#include "fusefs/ops.h"

namespace qcow2fs {

// From the handle's own text, whatever happened to the view it was opened in.
void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  Housekeeper::Busy busy(fs_of(req).housekeeper);  // a reader is still at work: not idle
  const auto* open = reinterpret_cast<const OpenFile*>(fi->fh);
  if (!open) return (void)fuse_reply_err(req, EBADF);
  // Our own reference: once the reply is in the kernel the reader may close the file, and the
  // release (on another thread) may free the handle before fuse_reply_buf has returned here.
  const std::shared_ptr<const std::string> text = open->content.text;
  const uint64_t at = static_cast<uint64_t>(std::max<off_t>(off, 0));
  if (at >= text->size()) return (void)fuse_reply_buf(req, nullptr, 0);
  fuse_reply_buf(req, text->data() + at, std::min<uint64_t>(size, text->size() - at));
}

}  // namespace qcow2fs
