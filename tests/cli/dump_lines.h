// Parses the line formats of `qcow2-dump -m dump` (see man/qcow2-dump.1, OUTPUT) for tests.
#pragma once

#include <cstdint>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace qcow2::test {

struct DumpL2Line {
  uint64_t l2_index = 0;
  uint64_t vdisk = 0;
  uint64_t host = 0;        // data / data-file offset, or the compressed stream offset
  bool compressed = false;
  bool data_file = false;   // labelled "data-file offset"
  uint64_t sectors = 0, bytes = 0;
  bool has_raw = false;     // -f decoration present
  uint64_t raw = 0;
  std::string flags, kind;  // "COPIED|ZERO", "normal"
  bool has_bitmap = false;  // extended L2
  uint32_t alloc = 0, zero = 0;
  std::string text;
};

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The lines from `title` up to the next section title ("Snapshot[", "Active Snapshot:",
// "Refcount Table: [") or the end; empty when there is no such section.
inline std::string dump_section(const std::string& out, const std::string& title) {
  std::string text;
  bool in = false;
  for (const std::string& line : split_lines(out)) {
    const bool is_title = line == "Active Snapshot:" || line.rfind("Snapshot[", 0) == 0 ||
                          line.rfind("Refcount Table: [", 0) == 0;
    if (is_title) {
      if (in) break;
      in = line == title;
    }
    if (in) text += line + "\n";
  }
  return text;
}

inline std::vector<DumpL2Line> parse_l2_lines(const std::string& section) {
  static const std::regex data(
      R"(^    l2 table\[ *(\d+)\], (data offset|data-file offset): 0x([0-9a-f]+)(.*?) \| vdisk offset: 0x([0-9a-f]+)(.*)$)");
  static const std::regex comp(
      R"(^    l2 table\[ *(\d+)\], compressed offset: 0x([0-9a-f]+), sectors: (\d+), bytes: (\d+)(.*?) \| vdisk offset: 0x([0-9a-f]+)(.*)$)");
  static const std::regex flags(R"(\[0x([0-9a-f]+): ([A-Za-z|]+), ([a-z-]+)\])");
  static const std::regex bitmap(R"(\| alloc: 0x([0-9a-f]{8}) zero: 0x([0-9a-f]{8}))");
  std::vector<DumpL2Line> out;
  for (const std::string& line : split_lines(section)) {
    std::smatch m;
    DumpL2Line l;
    std::string mid, tail;
    if (std::regex_match(line, m, data)) {
      l.l2_index = std::stoull(m[1]);
      l.data_file = m[2] == "data-file offset";
      l.host = std::stoull(m[3], nullptr, 16);
      mid = m[4];
      l.vdisk = std::stoull(m[5], nullptr, 16);
      tail = m[6];
    } else if (std::regex_match(line, m, comp)) {
      l.compressed = true;
      l.l2_index = std::stoull(m[1]);
      l.host = std::stoull(m[2], nullptr, 16);
      l.sectors = std::stoull(m[3]);
      l.bytes = std::stoull(m[4]);
      mid = m[5];
      l.vdisk = std::stoull(m[6], nullptr, 16);
      tail = m[7];
    } else {
      continue;
    }
    if (std::regex_search(mid, m, flags)) {
      l.has_raw = true;
      l.raw = std::stoull(m[1], nullptr, 16);
      l.flags = m[2];
      l.kind = m[3];
    }
    if (std::regex_search(tail, m, bitmap)) {
      l.has_bitmap = true;
      l.alloc = static_cast<uint32_t>(std::stoul(m[1], nullptr, 16));
      l.zero = static_cast<uint32_t>(std::stoul(m[2], nullptr, 16));
    }
    l.text = line;
    out.push_back(l);
  }
  return out;
}

}  // namespace qcow2::test
