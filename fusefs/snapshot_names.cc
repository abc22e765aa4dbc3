#include "fusefs/snapshot_names.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace qcow2fs {
namespace {

// Why `id` cannot name a directory, or empty when it can.
std::string unusable(const std::string& id, int uses) {
  if (id.empty()) return "the id is empty";
  if (id == "." || id == ".." || id == "ERROR") return fmt::format("the id '{}' is a reserved name", id);
  if (id.find('/') != std::string::npos) return "the id contains '/'";
  if (std::any_of(id.begin(), id.end(), [](char c) { return c < 0x20 || c > 0x7e; }))
    return "the id is not printable ASCII";
  // Such an id could clash with the name given to another snapshot.
  if (id.rfind("index-", 0) == 0) return "the id starts with 'index-', which names snapshots by position";
  if (uses > 1) return fmt::format("the id is shared by {} snapshots", uses);
  return {};
}

}  // namespace

std::vector<SnapshotName> snapshot_names(const std::vector<qcow2::Snapshot>& snapshots) {
  std::unordered_map<std::string, int> uses;
  for (const qcow2::Snapshot& s : snapshots) ++uses[s.id];
  std::vector<SnapshotName> out;
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const std::string& id = snapshots[i].id;
    const std::string why = unusable(id, uses[id]);
    if (why.empty())
      out.push_back({id, ""});
    else
      out.push_back({fmt::format("index-{}", i), "named by position because " + why});
  }
  return out;
}

}  // namespace qcow2fs
