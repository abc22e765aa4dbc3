// Walking a mounted tree and reading its fixed-column files, for the FUSE tests.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace qcow2::test {

struct TreeFile {
  std::string rel;  // path below the mount point
  bool dir = false;
  uint64_t size = 0;  // st_size from lstat
};

// Every node below `root`, sorted by path.
inline std::vector<TreeFile> walk_tree(const std::string& root) {
  namespace fs = std::filesystem;
  std::vector<TreeFile> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    struct stat st {};
    lstat(e.path().c_str(), &st);
    out.push_back({fs::relative(e.path(), root).string(), S_ISDIR(st.st_mode), static_cast<uint64_t>(st.st_size)});
  }
  std::sort(out.begin(), out.end(), [](const TreeFile& a, const TreeFile& b) { return a.rel < b.rel; });
  return out;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

inline std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// The columns of the first line whose first column is `key` (the `header` file's rows).
inline std::vector<std::string> row(const std::string& text, const std::string& key) {
  for (const std::string& line : lines_of(text)) {
    auto w = words_of(line);
    if (!w.empty() && w[0] == key) return w;
  }
  return {};
}

// True when every byte is printable ASCII or a newline.
inline bool is_ascii_text(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\n' || (c >= 0x20 && c < 0x7f); });
}

inline uint64_t parse_hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

}  // namespace qcow2::test
