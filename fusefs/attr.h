// Attributes and lookups shared by the operations: the FUSE boundary, where the engine's
// values become struct stat and negative errno.
#pragma once

#include <sys/stat.h>

#include <memory>

#include "fusefs/content.h"
#include "fusefs/fs.h"
#include "fusefs/fuse.h"

namespace qcow2fs {

// Names never change within a view: the kernel may keep them (a new view has them dropped).
inline constexpr double kEntryTimeout = 60.0;

// An open file: the text rendered at open(), served to every read through this handle, even
// after the view it came from has been replaced.
struct OpenFile {
  Node node;
  Content content;
};

inline Fs& fs_of(fuse_req_t req) { return *static_cast<Fs*>(fuse_req_userdata(req)); }

// What a request is about: a node, and the view (held for the request's lifetime) it is in.
struct Target {
  std::shared_ptr<View> view;
  Node node;
};

// Resolves `ino` in the current view into `out`; else returns the errno to answer: ESTALE for
// an inode of a replaced view (the kernel then looks its name up again), ENOENT for none.
int resolve(Fs& fs, fuse_ino_t ino, Target& out);

// Attributes of `n`; files are rendered (or taken from the cache) to report their exact size.
struct stat attr_of(Fs& fs, View& v, const Node& n);
// Attributes through an open handle (fstat, the kernel's size refresh before a read): the
// size of the handle's own text, so a reader's file stays whole even after the image changed.
struct stat attr_of(Fs& fs, fuse_ino_t ino, const OpenFile& open);
// Attributes for a lookup of a file that needs the check before it is done: all but the size,
// which only the finished check can tell, and valid for no time (attr_timeout is 0), so every
// stat asks with a getattr, which waits (parked) for the check.
struct stat unmeasured_attr_of(Fs& fs, View& v, const Node& n);

// Whether `n` is a control file commands are written to (only read-write mounts have them).
bool is_command_file(const Node& n);

// How long the kernel may trust the attributes: long for final text, not at all for text that
// will change when the check finishes.
double attr_timeout(const Node& n, View& v);

// The errno for an attempt to change the tree other than a command to a control file (ctl/,
// control.h): EROFS on a read-only mount, else EACCES.
inline int refuse_change(const Fs& fs) { return fs.config.read_only ? EROFS : EACCES; }

// Runs an operation body; an exception (allocation failure) must not cross libfuse's C frames.
// The request counts as activity: the housekeeper does not trim until it is over.
template <class F>
void guarded(fuse_req_t req, F&& body) {
  Housekeeper::Busy busy(fs_of(req).housekeeper);
  try {
    body();
  } catch (...) {
    fuse_reply_err(req, EIO);
  }
}

}  // namespace qcow2fs
