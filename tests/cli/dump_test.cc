// qcow2-dump -m dump against QEMU: every mapping `qemu-img map` reports for the top layer must
// appear in the Active section with the same host offset, and the dump must invent none.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "tests/cli/dump_lines.h"
#include "tests/support/fixtures.h"
#include "tests/support/map_extents.h"

namespace qcow2::test {
namespace {

// Compressed clusters the fixture wrote into the active layer: one cluster per `write -c`.
size_t compressed_clusters_written(const FixtureSpec& spec) {
  size_t n = 0;
  for (const auto& c : spec.io_commands) n += c.rfind("write -c ", 0) == 0;
  return n;
}

struct Fixture {
  FixtureSpec spec;
  std::string image;
  std::string dump;
  std::vector<MapExtent> map;
};

class DumpVsQemuMap : public ::testing::TestWithParam<FixtureSpec> {
 protected:
  void SetUp() override {
    QCOW2_SKIP_WITHOUT_QEMU();
    f_.spec = GetParam();
    f_.image = build_fixture(dir_, f_.spec);
    ASSERT_FALSE(f_.image.empty());
    CommandResult r = run_dump({"-m", "dump", "-f", f_.image}, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.err, "");
    f_.dump = r.out;
    auto j = qemu_img_json({"map", f_.image}, dir_.path());
    ASSERT_TRUE(j.is_array());
    f_.map = map_extents(j);
  }

  // The unit qemu-img map resolves: a subcluster with extended L2, else a cluster.
  uint64_t unit() const {
    return f_.spec.extended_l2 ? f_.spec.cluster_size() / 32 : f_.spec.cluster_size();
  }

  TempDir dir_;
  Fixture f_;
};

TEST_P(DumpVsQemuMap, EveryQemuMappingIsInTheActiveSection) {
  const auto lines = parse_l2_lines(dump_section(f_.dump, "Active Snapshot:"));
  ASSERT_FALSE(lines.empty()) << f_.dump;
  std::map<uint64_t, DumpL2Line> by_vdisk;
  for (const auto& l : lines) by_vdisk[l.vdisk] = l;
  const uint64_t cs = f_.spec.cluster_size();
  size_t checked = 0;
  for (const MapExtent& x : f_.map) {
    if (x.depth != 0 || !x.present) continue;
    const bool compressed = is_compressed_extent(x);
    // Extents need not start on a unit boundary (a 4 KiB write in a 64 KiB cluster over a
    // hole splits it), so step to the next unit boundary each time.
    for (uint64_t u = x.start; u < x.end(); u = (u & ~(unit() - 1)) + unit()) {
      const uint64_t cluster = u & ~(cs - 1);
      auto it = by_vdisk.find(cluster);
      if (!x.offset && !compressed && x.zero) {
        // A zero cluster without host storage: the dump shows the ZERO flag (or zero bits).
        ASSERT_NE(it, by_vdisk.end()) << "no line for zero cluster at vdisk 0x" << std::hex << cluster;
        if (f_.spec.extended_l2)
          EXPECT_TRUE(it->second.zero & (1U << ((u - cluster) / unit()))) << it->second.text;
        else
          EXPECT_EQ(it->second.kind, "zero") << it->second.text;
        continue;
      }
      if (compressed) {
        ASSERT_NE(it, by_vdisk.end()) << "no line for compressed cluster at vdisk 0x" << std::hex << cluster;
        EXPECT_TRUE(it->second.compressed) << it->second.text;
        ++checked;
        continue;
      }
      if (!x.offset) continue;
      ASSERT_NE(it, by_vdisk.end()) << "qemu-img maps vdisk 0x" << std::hex << u << " to 0x"
                                    << *x.offset + (u - x.start) << " but the dump has no line";
      const DumpL2Line& l = it->second;
      EXPECT_FALSE(l.compressed) << l.text;
      EXPECT_EQ(l.data_file, f_.spec.data_file) << l.text;
      const uint64_t sub = (u - cluster) / unit();
      EXPECT_EQ(l.host + (u - cluster), *x.offset + (u - x.start))
          << "vdisk 0x" << std::hex << u << ": " << l.text;
      // qemu-img says "zero" also for normal clusters over a hole in the file (as
      // preallocation=metadata leaves them), so only "not zero" pins the kind down.
      if (f_.spec.extended_l2) {
        const uint32_t bit = 1U << sub;
        EXPECT_TRUE(x.zero ? ((l.zero | l.alloc) & bit) : (l.alloc & bit))
            << "subcluster " << sub << ": " << l.text;
      } else if (!x.zero) {
        EXPECT_EQ(l.kind, "normal") << l.text;
      } else {
        EXPECT_TRUE(l.kind == "normal" || l.kind == "zero-alloc") << l.text;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u) << "qemu-img map reported no mapped data to compare";
}

TEST_P(DumpVsQemuMap, EveryDataLineIsAQemuMapping) {
  const auto lines = parse_l2_lines(dump_section(f_.dump, "Active Snapshot:"));
  // must_be_zero: a zero-alloc cluster reads as zeros, so qemu-img must say so.
  auto covered = [&](uint64_t vdisk, uint64_t host, bool must_be_zero) {
    for (const MapExtent& x : f_.map) {
      if (x.depth != 0 || !x.offset || vdisk < x.start || vdisk >= x.end()) continue;
      return *x.offset + (vdisk - x.start) == host && (x.zero || !must_be_zero);
    }
    return false;
  };
  for (const auto& l : lines) {
    if (l.compressed || l.vdisk >= f_.spec.virtual_size) continue;
    if (l.kind == "normal" && !f_.spec.extended_l2) {
      EXPECT_TRUE(covered(l.vdisk, l.host, false)) << "not in qemu-img map: " << l.text;
    } else if (l.kind == "zero-alloc") {
      EXPECT_TRUE(covered(l.vdisk, l.host, true)) << "not in qemu-img map: " << l.text;
    } else if (l.kind == "normal") {
      for (uint32_t s = 0; s < 32; ++s) {
        if (!(l.alloc & (1U << s))) continue;
        const uint64_t off = s * unit();
        EXPECT_TRUE(covered(l.vdisk + off, l.host + off, false))
            << "subcluster " << s << " not in qemu-img map: " << l.text;
      }
    }
  }
}

TEST_P(DumpVsQemuMap, CompressedLinesMatchWhatTheFixtureWrote) {
  const auto lines = parse_l2_lines(dump_section(f_.dump, "Active Snapshot:"));
  size_t compressed = 0;
  for (const auto& l : lines) {
    if (!l.compressed) continue;
    ++compressed;
    EXPECT_GE(l.sectors, 1u) << l.text;
    EXPECT_GT(l.bytes, 0u) << l.text;
    EXPECT_LE(l.bytes, l.sectors * 512) << l.text;
    EXPECT_EQ(l.kind, "compressed") << l.text;
  }
  EXPECT_EQ(compressed, compressed_clusters_written(f_.spec));
}

// Every entry of a walked L2 table lands in exactly one counter.
TEST_P(DumpVsQemuMap, L2CountersAddUpToTheTableSize) {
  const uint64_t entries = f_.spec.cluster_size() / (f_.spec.extended_l2 ? 16 : 8);
  static const std::regex counters(
      R"(L2 Entry: unaligned: (\d+), invalid: (\d+) \(past end of file\), unused: (\d+), used: (\d+), compressed: (\d+), zero_plain: (\d+), zero_alloc: (\d+))");
  size_t tables = 0;
  for (const std::string& line : split_lines(f_.dump)) {
    std::smatch m;
    if (!std::regex_search(line, m, counters)) continue;
    uint64_t sum = 0;
    for (int i = 1; i <= 7; ++i) sum += std::stoull(m[i]);
    EXPECT_EQ(sum, entries) << line;
    EXPECT_EQ(m[1], "0") << line;
    EXPECT_EQ(m[2], "0") << line;
    ++tables;
  }
  EXPECT_GT(tables, 0u);
}

// Every section's L1 counters cover its whole L1 table.
TEST_P(DumpVsQemuMap, L1CountersAddUpToTheTableSize) {
  static const std::regex table(R"(^L1 Table: \[offset: 0x[0-9a-f]+, len: (\d+)\]$)");
  static const std::regex counters(R"(^L1 Entry: unaligned: (\d+), invalid: (\d+), unused: (\d+), used: (\d+)$)");
  uint64_t len = 0;
  size_t sections = 0;
  for (const std::string& line : split_lines(f_.dump)) {
    std::smatch m;
    if (std::regex_match(line, m, table)) len = std::stoull(m[1]);
    if (!std::regex_match(line, m, counters)) continue;
    EXPECT_EQ(std::stoull(m[1]) + std::stoull(m[2]) + std::stoull(m[3]) + std::stoull(m[4]), len);
    ++sections;
  }
  EXPECT_EQ(sections, 1 + f_.spec.snapshots.size());
}

// The refcount section lists the header cluster and ends with the table's counters.
TEST_P(DumpVsQemuMap, RefcountSectionIsComplete) {
  EXPECT_NE(f_.dump.find("\nRefcount Table: [offset: 0x"), std::string::npos);
  EXPECT_NE(f_.dump.find("| cluster[0] offset: 0x0\n"), std::string::npos) << "header cluster";
  EXPECT_NE(f_.dump.find("\nRefcount Table: unaligned: 0, invalid: 0, reserved: 0, unused: "),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(cli, DumpVsQemuMap, ::testing::ValuesIn(standard_fixtures()),
                         FixtureName());

}  // namespace
}  // namespace qcow2::test
