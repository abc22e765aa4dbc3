#include "fusefs/open_files.h"

#include "fusefs/attr.h"

namespace qcow2fs {

OpenFiles::OpenFiles(size_t max_text_bytes) : max_text_bytes_(max_text_bytes) {}
OpenFiles::~OpenFiles() = default;

std::optional<uint64_t> OpenFiles::add(std::unique_ptr<OpenFile> file) {
  const auto fh = reinterpret_cast<uint64_t>(file.get());
  const std::string* text = file->content.text.get();
  std::lock_guard<std::mutex> lock(mu_);
  auto pin = pins_.find(text);
  if (pin == pins_.end()) {
    // A text alone larger than the whole budget still opens when nothing else is pinned, so
    // that any one file stays readable whatever the budget.
    if (pinned_ + text->size() > max_text_bytes_ && pinned_ > 0) return std::nullopt;
    pin = pins_.emplace(text, Pin{text->size(), 0}).first;
    pinned_ += text->size();
  }
  ++pin->second.handles;
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
  auto pin = pins_.find(gone->content.text.get());
  if (pin != pins_.end() && --pin->second.handles == 0) {
    pinned_ -= pin->second.bytes;
    pins_.erase(pin);
  }
}

}  // namespace qcow2fs
