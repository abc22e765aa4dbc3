#include "engine/check/crypt_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "engine/format/extent.h"
#include "engine/format/l1_entry.h"
#include "engine/format/l2_entry.h"

namespace qcow2 {
namespace {

constexpr size_t kMaxTables = 4;
constexpr size_t kMaxClusters = 8;
constexpr uint32_t kCryptAes = 1;
constexpr uint32_t kCryptLuks = 2;

Finding crypt_finding(const Image& img, std::string msg, std::string fix) {
  Finding f = make_finding("header-crypt_method", Category::kCorrupt, "header", std::move(msg), std::move(fix));
  f.at_field(32, 4, img.header().crypt_method);
  return f;
}

// The first data cluster of the active image that holds one byte repeated, and that byte.
std::optional<std::pair<uint64_t, uint8_t>> uniform_cluster(const Image& img, const Layout& layout) {
  const Geometry& g = img.geometry();
  std::vector<uint8_t> table, data;
  size_t tables = 0, clusters = 0;
  for (uint64_t raw : layout.active_l1().entries) {
    const L1Entry e = decode_l1_entry(raw, g);
    if (!e.used() || e.unaligned || layout.l2_conflict(e.l2_offset) || !img.read_cluster(e.l2_offset, table).ok())
      continue;
    for (uint64_t i = 0; i < g.l2_entries && clusters < kMaxClusters; ++i) {
      const L2Entry d = l2_entry_at(table, i, g);
      if (d.kind != L2Kind::kNormal || d.unaligned || !inside_file(d.host_offset, g.cluster_size, img.file_size()))
        continue;
      ++clusters;
      if (!img.read_cluster(d.host_offset, data).ok()) continue;
      if (std::all_of(data.begin(), data.end(), [&](uint8_t b) { return b == data[0]; }) &&
          // A hole (never written) reads as zeros in any image: only written bytes are evidence.
          (data[0] != 0 || !img.file().is_hole(d.host_offset, g.cluster_size)))
        return std::make_pair(d.host_offset, data[0]);
    }
    if (++tables >= kMaxTables || clusters >= kMaxClusters) break;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Finding> crypt_method_findings(const Image& img, const Layout& layout) {
  std::vector<Finding> out;
  const uint32_t method = img.header().crypt_method;
  const bool luks_ext = img.extensions().crypto.has_value();
  if (method == 0 && !luks_ext) return out;
  if (method == kCryptLuks && !luks_ext)
    out.push_back(crypt_finding(img, "crypt_method is 2 (LUKS) but the image has no encryption header extension",
                                "restore the crypt_method field (offset 32) from a backup or a sister image"));
  if (method != kCryptLuks && luks_ext)
    out.push_back(crypt_finding(img,
                                fmt::format("an encryption header extension is present but crypt_method is {}",
                                            method),
                                "restore the crypt_method field (offset 32): 2 for a LUKS image"));
  if (method != kCryptAes && method != kCryptLuks) return out;
  if (const auto u = uniform_cluster(img, layout)) {
    Finding f = crypt_finding(
        img,
        fmt::format("crypt_method is {} ({}), but the data cluster at 0x{:x} holds the byte 0x{:02x} repeated, "
                    "which cannot be ciphertext: the field is most likely damaged",
                    method, method == kCryptAes ? "AES" : "LUKS", u->first, u->second),
        "set crypt_method (offset 32) to 0 if the image was never encrypted");
    if (!luks_ext) f.propose(0, Risk::kRisky);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace qcow2
