// `qemu-img map --output=json` extents, decoded once for the tests that compare against them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace qcow2::test {

struct MapExtent {
  uint64_t start = 0;
  uint64_t length = 0;
  int depth = 0;
  bool present = false;
  bool zero = false;
  bool data = false;
  std::optional<uint64_t> offset;     // absent for compressed (and encrypted) data
  std::optional<bool> compressed;     // QEMU 8.2+ only
  uint64_t end() const { return start + length; }
};

inline std::vector<MapExtent> map_extents(const nlohmann::json& j) {
  std::vector<MapExtent> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    MapExtent x;
    x.start = e.at("start").get<uint64_t>();
    x.length = e.at("length").get<uint64_t>();
    x.depth = e.at("depth").get<int>();
    x.present = e.value("present", false);
    x.zero = e.value("zero", false);
    x.data = e.value("data", false);
    if (e.contains("offset")) x.offset = e.at("offset").get<uint64_t>();
    if (e.contains("compressed")) x.compressed = e.at("compressed").get<bool>();
    out.push_back(x);
  }
  return out;
}

// The top layer's compressed data: present, data, and no host offset (QEMU 7.2 has no
// "compressed" key; encryption, the other reason for a missing offset, is not in the fixtures).
inline bool is_compressed_extent(const MapExtent& x) {
  if (x.compressed) return *x.compressed && x.depth == 0;
  return x.depth == 0 && x.present && x.data && !x.offset;
}

}  // namespace qcow2::test
