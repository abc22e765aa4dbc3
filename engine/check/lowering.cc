#include "engine/check/lowering.h"

#include <algorithm>
#include <set>
#include <string>

namespace qcow2 {

bool references_may_be_missing(const std::vector<Finding>& findings) {
  static const std::set<std::string> kUnfollowed = {
      "l1-unaligned",      "l1-past-eof",           "l1-cross-link", "l2-unaligned",
      "l2-past-eof",       "l2-compressed-past-eof", "snapshot-table", "snapshot-l1",
      "snapshot-l1-cross-link", "l2-suspect-table",  "overlap",       "header-nb_snapshots",
      "header-snapshots_offset", "l1-flags-without-table", "crypto-header-range", "bitmap-table-range",
      "bitmap-table-cross-link", "bitmap-table-size", "bitmap-directory", "bitmap-directory-cross-link"};
  for (const Finding& f : findings)
    if (kUnfollowed.count(f.code) && !f.proposed) return true;
  return false;
}

bool cluster_holds_nothing(const Image& img, uint64_t c, std::vector<uint8_t>& buf) {
  if (img.header().backing_file_offset != 0) return false;
  const Geometry& g = img.geometry();
  const uint64_t off = c << g.cluster_bits;
  if (off >= img.file_size()) return true;
  buf.resize(std::min<uint64_t>(g.cluster_size, img.file_size() - off));
  if (!img.file().read(off, buf).ok()) return false;
  return std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace qcow2
