// Shared helpers of the checker tests: run check_image (asserting it never writes), compare
// with `qemu-img check --output=json`, and find the structures of a small image to damage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/check/checker.h"
#include "engine/format/l1_entry.h"
#include "engine/io/image.h"
#include "engine/render/check_json.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {

// One check of one image file. `ok` is false (and the test has failed) when the image could
// not be opened or the check returned an I/O error.
struct Checked {
  std::unique_ptr<Image> img;
  CheckResult res;
  bool ok = false;

  std::vector<Finding> with_code(const std::string& code) const {
    std::vector<Finding> out;
    for (const Finding& f : res.findings)
      if (f.code == code) out.push_back(f);
    return out;
  }
  bool has(const std::string& code) const { return !with_code(code).empty(); }

  // The codes of all findings that are more than information, sorted: tests compare it with
  // the exact list they expect, so a stray finding fails them too.
  std::vector<std::string> problem_codes() const {
    std::vector<std::string> out;
    for (const Finding& f : res.findings)
      if (f.category != Category::kInfo) out.push_back(f.code);
    std::sort(out.begin(), out.end());
    return out;
  }

  // Everything the check said, for failure messages.
  std::string describe() const {
    std::ostringstream os;
    os << "status " << status_word(res.status) << ", leaks " << res.stats.leaks << ", errors "
       << res.stats.errors << ", " << res.findings.size() << " findings:";
    for (const Finding& f : res.findings) {
      os << "\n  " << f.code << " [" << static_cast<int>(f.category) << "]";
      if (f.file_offset) os << fmt::format(" @0x{:x}", *f.file_offset);
      if (!f.table.empty()) os << " table='" << f.table << "'";
      if (f.index) os << " index=" << *f.index;
      if (f.cluster) os << " cluster=" << *f.cluster;
      if (f.guest_offset) os << fmt::format(" guest=0x{:x}", *f.guest_offset);
      os << ": " << f.message;
    }
    return os.str();
  }
};

inline std::optional<uint64_t> opt(uint64_t v) { return v; }

// The status and the exit code the CLI would give for it (spelled out: the numbers are the
// interface scripts rely on), with everything the check said on failure.
#define QCOW2_EXPECT_STATUS(checked, want, code)                                \
  do {                                                                          \
    EXPECT_EQ((checked).res.status, (want)) << (checked).describe();            \
    EXPECT_EQ(::qcow2::exit_code((checked).res.status), (code));                \
  } while (0)

// Opens `path` read-only and checks it. The image's bytes must be the same afterwards: a
// checker that writes (even "harmless" flag updates) destroys the evidence it reports on.
inline Checked check_file(const std::string& path, const CheckOptions& opts = {}) {
  Checked c;
  const std::string before = sha256_file(path);
  auto img = Image::open(path);
  if (!img.ok()) {
    ADD_FAILURE() << "Image::open(" << path << "): " << img.status().message();
    return c;
  }
  c.img = std::move(*img);
  auto r = check_image(*c.img, opts);
  if (!r.ok()) {
    ADD_FAILURE() << "check_image(" << path << "): " << r.status().message();
    return c;
  }
  c.res = std::move(*r);
  c.ok = true;
  EXPECT_EQ(sha256_file(path), before) << "check_image changed the bytes of " << path;
  return c;
}

// `qemu-img check --output=json`, with absent counters read as 0 (QEMU omits zero ones).
struct QemuCheck {
  bool ran = false;  // JSON was produced (exit 0, 2 or 3)
  int exit_code = -1;
  uint64_t leaks = 0;
  uint64_t corruptions = 0;
  uint64_t check_errors = 0;
  uint64_t image_end_offset = 0;
  uint64_t total_clusters = 0;
  uint64_t allocated_clusters = 0;
  uint64_t fragmented_clusters = 0;
  uint64_t compressed_clusters = 0;
  std::string err;
};

// Runs in the image's directory (a relative data_file name resolves against it). Never fails
// the test: callers decide whether QEMU could be expected to check the image at all.
inline QemuCheck qemu_check(const std::string& path) {
  QemuCheck q;
  const std::string dir = path.substr(0, path.rfind('/'));
  CommandResult r = qemu_img({"check", "--output=json", path}, dir);
  q.exit_code = r.exit_code;
  q.err = r.err;
  if (r.timed_out || (r.exit_code != 0 && r.exit_code != 2 && r.exit_code != 3)) return q;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return q;
  auto get = [&j](const char* key) { return j.contains(key) ? j[key].get<uint64_t>() : uint64_t{0}; };
  q.ran = true;
  q.leaks = get("leaks");
  q.corruptions = get("corruptions");
  q.check_errors = get("check-errors");
  q.image_end_offset = get("image-end-offset");
  q.total_clusters = get("total-clusters");
  q.allocated_clusters = get("allocated-clusters");
  q.fragmented_clusters = get("fragmented-clusters");
  q.compressed_clusters = get("compressed-clusters");
  return q;
}

// Asserts that qemu-img check ran and counted the same leaks and corruptions as we do.
inline void expect_qemu_counts_agree(const std::string& path, const Checked& c) {
  const QemuCheck q = qemu_check(path);
  ASSERT_TRUE(q.ran) << "qemu-img check could not check " << path << " (exit " << q.exit_code
                     << "): " << q.err;
  EXPECT_EQ(q.check_errors, 0u) << q.err;
  EXPECT_EQ(c.res.stats.leaks, q.leaks) << "qemu-img check said:\n" << q.err << "\nwe said: " << c.describe();
  EXPECT_EQ(corruption_count(c.res), q.corruptions)
      << "qemu-img check said:\n" << q.err << "\nwe said: " << c.describe();
}

// Where the structures of an image made by qemu-img create live, read from its header with
// peek(). Offsets of entries are file offsets, ready for poke(). The header's own offsets
// (l1_table_offset at 40, refcount_table_offset at 48) are read once, at construction: no
// recipe moves them, and every peek is a process spawn (slow under ASan). Table entries are
// read on each call, so they reflect damage done since.
class Layout {
 public:
  explicit Layout(std::string path, uint32_t l2_entry_bytes = 8, uint32_t cluster_bits = 16)
      : path_(std::move(path)), l2_entry_bytes_(l2_entry_bytes), cluster_bits_(cluster_bits),
        l1_(peek(path_, 40, 8)), reftable_(peek(path_, 48, 8)) {}

  const std::string& path() const { return path_; }
  uint64_t cluster_size() const { return uint64_t{1} << cluster_bits_; }

  uint64_t l1() const { return l1_; }
  uint64_t reftable() const { return reftable_; }
  uint64_t snapshots() const { return peek(path_, 64, 8); }

  uint64_t l1_entry(uint64_t i) const { return l1_ + 8 * i; }
  uint64_t l2(uint64_t l1_index = 0) const { return peek(path_, l1_entry(l1_index), 8) & kOffsetMask; }
  uint64_t l2_entry(uint64_t index, uint64_t l1_index = 0) const {
    return l2(l1_index) + l2_entry_bytes_ * index;
  }
  uint64_t reftable_entry(uint64_t i) const { return reftable_ + 8 * i; }
  uint64_t refblock(uint64_t i = 0) const { return peek(path_, reftable_entry(i), 8) & ~kRefTableReservedMask; }
  // 16-bit refcounts (the default): 2 bytes per cluster in refcount block 0.
  uint64_t refcount_entry(uint64_t cluster) const { return refblock(0) + 2 * cluster; }
  uint64_t cluster_of(uint64_t offset) const { return offset >> cluster_bits_; }

 private:
  std::string path_;
  uint32_t l2_entry_bytes_;
  uint32_t cluster_bits_;
  uint64_t l1_;
  uint64_t reftable_;
};

}  // namespace qcow2::test
