// The handles of files open on this mount. The kernel sends no release for handles still open
// when the mount goes away (a SIGTERM, an unmount with readers), so the mount owns them and
// frees what is left when it ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace qcow2fs {

struct OpenFile;

class OpenFiles {
 public:
  OpenFiles();
  ~OpenFiles();
  OpenFiles(const OpenFiles&) = delete;
  OpenFiles& operator=(const OpenFiles&) = delete;

  // Keeps `file` until release(); returns the value for fuse_file_info::fh.
  uint64_t add(std::unique_ptr<OpenFile> file);
  // Frees the handle `fh` names (0 and unknown values are ignored).
  void release(uint64_t fh);

 private:
  std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<OpenFile>> files_;
};

}  // namespace qcow2fs
