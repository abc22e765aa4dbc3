// Header extensions (spec: "Header extensions") and the backing file name, all from cluster 0.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/format/header.h"

namespace qcow2 {

inline constexpr uint32_t kExtEnd = 0x00000000;
inline constexpr uint32_t kExtBackingFormat = 0xe2792aca;
inline constexpr uint32_t kExtFeatureNames = 0x6803f857;
inline constexpr uint32_t kExtBitmaps = 0x23852875;
inline constexpr uint32_t kExtCrypto = 0x0537be77;
inline constexpr uint32_t kExtDataFile = 0x44415441;

struct HeaderExtension {
  uint32_t type = 0;
  uint32_t length = 0;
  uint64_t offset = 0;  // file offset of the type field; data follows 8 bytes later
  std::vector<uint8_t> data;
};

struct FeatureName {
  uint8_t type = 0;  // 0 incompatible, 1 compatible, 2 autoclear
  uint8_t bit = 0;
  std::string name;
};

struct BitmapsExtension {
  uint32_t nb_bitmaps = 0;
  uint32_t reserved = 0;
  uint64_t directory_size = 0;
  uint64_t directory_offset = 0;
};

struct CryptoExtension {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Extensions {
  std::vector<HeaderExtension> all;  // in file order, unknown ones included
  std::optional<std::string> backing_format;
  std::vector<FeatureName> feature_names;
  std::optional<BitmapsExtension> bitmaps;
  std::optional<CryptoExtension> crypto;
  std::optional<std::string> data_file;
  std::optional<std::string> backing_file;  // the name at backing_file_offset
  std::vector<std::string> problems;  // one line each: what is wrong and where
};

// Parses the extension area of cluster 0 (`cluster0` is the first cluster, or less if the file
// is shorter) and the backing file name. Never fails: problems are collected.
Extensions parse_extensions(std::span<const uint8_t> cluster0, const Header& h);

// A feature bit's name: from the image's feature-name table when it has one, else the spec's.
std::string feature_name(const Extensions& ext, uint8_t type, uint8_t bit);

const char* extension_name(uint32_t type);  // "backing format", …, or "unknown"

}  // namespace qcow2
