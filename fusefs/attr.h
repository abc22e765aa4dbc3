// Attributes and lookups shared by the operations: the FUSE boundary, where the engine's
// values become struct stat and negative errno.
#pragma once

#include <sys/stat.h>

#include <optional>

#include "fusefs/content.h"
#include "fusefs/fs.h"
#include "fusefs/fuse.h"

namespace qcow2fs {

// Names never change during a mount (the image is never written): the kernel may keep them.
inline constexpr double kEntryTimeout = 60.0;

// An open file: the text rendered at open(), served to every read through this handle.
struct OpenFile {
  Node node;
  Content content;
};

inline Fs& fs_of(fuse_req_t req) { return *static_cast<Fs*>(fuse_req_userdata(req)); }

// The node an inode number names, if it exists in this image's tree.
std::optional<Node> existing(Fs& fs, fuse_ino_t ino);

// Attributes of `n`; files are rendered (or taken from the cache) to report their exact size.
// `open` gives the size of that open handle's text instead.
struct stat attr_of(Fs& fs, const Node& n, const OpenFile* open = nullptr);

// How long the kernel may trust the attributes: long for final text, not at all for text that
// will change when the check finishes.
double attr_timeout(const Node& n, Fs& fs);

// The errno for an attempt to change the tree: EROFS on a read-only mount, else EACCES (no
// file is writable yet).
inline int refuse_change(const Fs& fs) { return fs.read_only ? EROFS : EACCES; }

// Runs an operation body; an exception (allocation failure) must not cross libfuse's C frames.
// The request counts as activity: the idle trimmer waits until it is over.
template <class F>
void guarded(fuse_req_t req, F&& body) {
  IdleTrim::Busy busy(fs_of(req).idle);
  try {
    body();
  } catch (...) {
    fuse_reply_err(req, EIO);
  }
}

}  // namespace qcow2fs
