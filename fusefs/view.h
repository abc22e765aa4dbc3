// One view of the image: everything that depends on its bytes at one moment — the opened
// image, the tree over it, its check and its rendered texts. A view never changes what it
// shows; when the image changes the mount opens it again as a new view and swaps (fs.h).
// Requests hold the view they started with for their lifetime, so each answers from one
// consistent image, and every inode number carries its view's generation (inode.h).
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

#include "engine/io/image.h"
#include "fusefs/check_state.h"
#include "engine/io/file_stamp.h"
#include "fusefs/render_cache.h"
#include "fusefs/tree.h"

namespace qcow2fs {

class View {
 public:
  // `stamp` was taken before `img` was opened, so a change during the open is noticed later.
  // `in_use` describes a writer holding QEMU's lock when the view was made ("" when none).
  // `controls`: a read-write mount's view, with the control files in ctl/ (tree.h).
  View(std::unique_ptr<qcow2::Image> img, uint32_t generation, const CheckConfig& check_config,
       qcow2::ImageStamp stamp, std::string in_use, bool controls = false);
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  uint64_t ino(const Node& n) const { return ino_of(n, generation); }

  const uint32_t generation;
  const std::time_t made_at;  // the mtime of its directories
  const qcow2::ImageStamp stamp;
  const std::string in_use;
  Tree tree;
  RenderCache cache{32u << 20, 4096};
  // Last: destroyed first, as its thread and its waiters use the members above.
  CheckState check;
};

// Opens `path` afresh as the view with generation `generation` (its check not started yet).
qcow2::Result<std::shared_ptr<View>> open_view(const std::string& path, uint32_t generation,
                                               const CheckConfig& check_config, bool controls = false);

// What QEMU's locks say about a writer: its description, or "" when nobody writes the image.
std::string writer_of(const qcow2::Image& img);

}  // namespace qcow2fs
