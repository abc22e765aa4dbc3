#include "fusefs/open_files.h"

#include "fusefs/attr.h"

namespace qcow2fs {

OpenFiles::OpenFiles() = default;
OpenFiles::~OpenFiles() = default;

uint64_t OpenFiles::add(std::unique_ptr<OpenFile> file) {
  const auto fh = reinterpret_cast<uint64_t>(file.get());
  std::lock_guard<std::mutex> lock(mu_);
  files_.emplace(fh, std::move(file));
  return fh;
}

void OpenFiles::release(uint64_t fh) {
  std::unique_ptr<OpenFile> gone;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(fh);
  if (it == files_.end()) return;
  gone = std::move(it->second);
  files_.erase(it);
}

}  // namespace qcow2fs
