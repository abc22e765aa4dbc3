#include "fusefs/render_cache.h"

namespace qcow2fs {

std::shared_ptr<const std::string> RenderCache::get(uint64_t ino, uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ino_.find(ino);
  if (it == by_ino_.end() || it->second->generation != generation) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->text;
}

void RenderCache::put(uint64_t ino, uint64_t generation, std::shared_ptr<const std::string> text) {
  if (!text || text->size() > max_bytes_ / 4) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_ino_.find(ino); it != by_ino_.end()) {
    bytes_ -= it->second->text->size();
    lru_.erase(it->second);
    by_ino_.erase(it);
  }
  bytes_ += text->size();
  lru_.push_front(Item{ino, generation, std::move(text)});
  by_ino_[ino] = lru_.begin();
  evict_locked();
}

void RenderCache::clear() {
  std::list<Item> gone;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  gone.swap(lru_);
  by_ino_.clear();
  bytes_ = 0;
}

void RenderCache::evict_locked() {
  while (!lru_.empty() && (bytes_ > max_bytes_ || lru_.size() > max_entries_)) {
    bytes_ -= lru_.back().text->size();
    by_ino_.erase(lru_.back().ino);
    lru_.pop_back();
  }
}

}  // namespace qcow2fs
