// The state of one mount, shared by every FUSE operation: the tree, the background check, the
// render cache, the idle trimmer and the mount's options. Reached from a request through fuse_req_userdata.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <memory>

#include "fusefs/check_state.h"
#include "fusefs/idle_trim.h"
#include "fusefs/open_files.h"
#include "fusefs/render_cache.h"
#include "fusefs/tree.h"

namespace qcow2fs {

struct Fs {
  Fs(std::unique_ptr<qcow2::Image> img, bool read_only_mount);
  ~Fs() { idle.stop(); }  // first: its thread uses the members below

  Tree tree;
  IdleTrim idle;     // before check: the check thread touches it until it is joined
  CheckState check;  // after tree: it reads tree's image
  RenderCache cache{32u << 20, 4096};
  OpenFiles open_files;
  bool read_only = true;
  std::time_t mount_time = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

}  // namespace qcow2fs
