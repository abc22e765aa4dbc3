// One rendering per (inode, generation), shared by everything that asks for it: the lookup or
// getattr that measures a file's size, the open that follows, and every other open handle on
// the same file. Requests that ask while it is being rendered wait for that rendering instead
// of making their own.
//
// Small texts stay in an LRU bounded in bytes and entries. Larger ones (an L2 table of a 2 MiB
// cluster image is 25 MB of text) would crowd it out; they are kept while anyone holds them
// (an open handle) and, the last two of them, for a while after, so that the open after a
// lookup finds the text the lookup measured. Memory stays bounded whatever has been listed or
// read; what open handles pin is bounded by open_files.h.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace qcow2fs {

class RenderCache {
 public:
  using Text = std::shared_ptr<const std::string>;

  RenderCache(size_t max_bytes, size_t max_entries) : max_bytes_(max_bytes), max_entries_(max_entries) {}

  // The text for `ino` at `generation` (the check's state): kept, being rendered by another
  // request (then this waits for it), or rendered now by `render`. An exception from `render`
  // reaches every request that waited for it.
  Text get(uint64_t ino, uint64_t generation, const std::function<std::string()>& render);
  // Forgets everything (text still held by an open handle lives on there).
  void clear();

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // ino, generation
  struct Item {
    Key key;
    Text text;
  };

  Text find_locked(const Key& key);
  void keep_locked(const Key& key, const Text& text);
  void evict_locked();

  const size_t max_bytes_;
  const size_t max_entries_;
  std::mutex mu_;
  std::list<Item> lru_;  // most recent first
  std::map<Key, std::list<Item>::iterator> by_key_;
  size_t bytes_ = 0;
  std::map<Key, std::weak_ptr<const std::string>> large_;  // held by someone, maybe
  std::deque<Text> recent_large_;                           // the last few, held here
  std::map<Key, std::shared_future<Text>> rendering_;
};

}  // namespace qcow2fs
