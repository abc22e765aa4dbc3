// The handles of files open on this mount, and the text they pin. Each handle holds its
// file's text for its lifetime (a reader never sees a torn file); handles on the same file
// share one text (render_cache.h), so the budget counts each distinct text once. Past the
// budget (-o max_open_text, 512 MiB by default) an open fails with ENOMEM rather than letting
// readers push the daemon out of memory.
//
// The kernel sends no release for handles still open when the mount goes away (a SIGTERM, an
// unmount with readers), so the mount owns them and frees what is left when it ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace qcow2fs {

struct OpenFile;

class OpenFiles {
 public:
  explicit OpenFiles(size_t max_text_bytes);
  ~OpenFiles();
  OpenFiles(const OpenFiles&) = delete;
  OpenFiles& operator=(const OpenFiles&) = delete;

  // Keeps `file` until release(); returns the value for fuse_file_info::fh, or nothing when
  // its text would take the pinned text past the budget (the file is dropped).
  std::optional<uint64_t> add(std::unique_ptr<OpenFile> file);
  // Frees the handle `fh` names (0 and unknown values are ignored).
  void release(uint64_t fh);

 private:
  struct Pin {
    size_t bytes = 0;
    size_t handles = 0;
  };

  const size_t max_text_bytes_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<OpenFile>> files_;
  std::unordered_map<const std::string*, Pin> pins_;
  size_t pinned_ = 0;
};

}  // namespace qcow2fs
