// A small LRU of rendered files, bounded in bytes and entries, so that the lookup or getattr
// that measures a file's size and the open that follows share one rendering. Memory stays
// bounded whatever has been listed or read.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace qcow2fs {

class RenderCache {
 public:
  RenderCache(size_t max_bytes, size_t max_entries) : max_bytes_(max_bytes), max_entries_(max_entries) {}

  // The text rendered for `ino` at `generation` (the check's state), or null.
  std::shared_ptr<const std::string> get(uint64_t ino, uint64_t generation);
  // Keeps `text` unless it is too large to be worth a quarter of the budget.
  void put(uint64_t ino, uint64_t generation, std::shared_ptr<const std::string> text);
  // Forgets everything (text still held by an open handle lives on there).
  void clear();

 private:
  struct Item {
    uint64_t ino;
    uint64_t generation;
    std::shared_ptr<const std::string> text;
  };

  void evict_locked();

  const size_t max_bytes_;
  const size_t max_entries_;
  std::mutex mu_;
  std::list<Item> lru_;  // most recent first
  std::unordered_map<uint64_t, std::list<Item>::iterator> by_ino_;
  size_t bytes_ = 0;
};

}  // namespace qcow2fs
