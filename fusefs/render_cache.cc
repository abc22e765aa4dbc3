#include "fusefs/render_cache.h"

namespace qcow2fs {
namespace {

// Large texts kept after their last holder let go: enough for the lookup-then-open of one or
// two files at a time, few enough not to matter next to the text budget.
constexpr size_t kRecentLarge = 2;

}  // namespace

RenderCache::Text RenderCache::get(uint64_t ino, uint64_t generation, const std::function<std::string()>& render) {
  const Key key{ino, generation};
  std::promise<Text> promise;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (Text t = find_locked(key)) return t;
    if (auto it = rendering_.find(key); it != rendering_.end()) {
      std::shared_future<Text> pending = it->second;
      lock.unlock();
      return pending.get();  // rethrows what the renderer threw
    }
    rendering_.emplace(key, promise.get_future().share());
  }
  Text text;
  try {
    text = std::make_shared<const std::string>(render());
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::lock_guard<std::mutex> lock(mu_);
    rendering_.erase(key);
    throw;
  }
  promise.set_value(text);
  std::lock_guard<std::mutex> lock(mu_);
  rendering_.erase(key);
  keep_locked(key, text);
  return text;
}

RenderCache::Text RenderCache::find_locked(const Key& key) {
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->text;
  }
  if (auto it = large_.find(key); it != large_.end()) {
    if (Text t = it->second.lock()) return t;
    large_.erase(it);
  }
  return nullptr;
}

void RenderCache::keep_locked(const Key& key, const Text& text) {
  if (text->size() > max_bytes_ / 4) {
    for (auto it = large_.begin(); it != large_.end();)  // one entry per large file at most
      it = it->second.expired() ? large_.erase(it) : std::next(it);
    large_[key] = text;
    recent_large_.push_front(text);
    if (recent_large_.size() > kRecentLarge) recent_large_.pop_back();
    return;
  }
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    bytes_ -= it->second->text->size();
    lru_.erase(it->second);
    by_key_.erase(it);
  }
  bytes_ += text->size();
  lru_.push_front(Item{key, text});
  by_key_[key] = lru_.begin();
  evict_locked();
}

void RenderCache::clear() {
  std::list<Item> gone;  // freed outside the lock
  std::deque<Text> gone_large;
  std::lock_guard<std::mutex> lock(mu_);
  gone.swap(lru_);
  gone_large.swap(recent_large_);
  by_key_.clear();
  bytes_ = 0;
}

void RenderCache::evict_locked() {
  while (!lru_.empty() && (bytes_ > max_bytes_ || lru_.size() > max_entries_)) {
    bytes_ -= lru_.back().text->size();
    by_key_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace qcow2fs
