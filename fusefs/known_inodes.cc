#include "fusefs/known_inodes.h"

#include "fusefs/inode.h"

namespace qcow2fs {

void KnownInodes::add(uint64_t ino) {
  if (ino == 1) return;  // the root is never forgotten and never replaced
  std::lock_guard<std::mutex> lock(mu_);
  ++lookups_[ino];
}

void KnownInodes::forget(uint64_t ino, uint64_t nlookup) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lookups_.find(ino);
  if (it == lookups_.end()) return;
  if (it->second <= nlookup)
    lookups_.erase(it);
  else
    it->second -= nlookup;
}

std::vector<uint64_t> KnownInodes::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> out;
  out.reserve(lookups_.size());
  for (const auto& [ino, n] : lookups_) out.push_back(ino);
  return out;
}

bool KnownInodes::uses_generation(uint32_t gen) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [ino, n] : lookups_) {
    auto name = node_of(ino);
    if (name && name->gen == gen % kGenerations) return true;
  }
  return false;
}

}  // namespace qcow2fs
