// Mounts every standard fixture for real and reads every file: sizes are exact, text is
// ASCII, and the contents agree with the engine, with qcow2-dump and with qemu-img.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <set>

#include "engine/check/checker.h"
#include "engine/io/image.h"
#include "engine/render/check_json.h"
#include "engine/render/check_text.h"
#include "tests/fuse/mount_helper.h"
#include "tests/fuse/tree_files.h"
#include "tests/support/map_extents.h"

namespace qcow2::test {
namespace {

struct MapRow {
  uint64_t start = 0, length = 0;
  std::string kind;
  std::optional<uint64_t> host;
};

std::vector<MapRow> parse_map(const std::string& text) {
  std::vector<MapRow> out;
  for (const std::string& line : lines_of(text)) {
    if (line.empty() || line[0] == '#') continue;
    auto w = words_of(line);
    if (w.size() != 4) {
      ADD_FAILURE() << "bad map line: " << line;
      continue;
    }
    MapRow r{parse_hex(w[0]), parse_hex(w[1]), w[2], std::nullopt};
    if (w[3] != "-") r.host = parse_hex(w[3]);
    out.push_back(r);
  }
  return out;
}

// Our `map` covers the disk without gaps and agrees with qemu-img map on every depth-0 extent.
void expect_map_matches(const std::string& text, const std::vector<MapExtent>& qemu, uint64_t disk) {
  const auto rows = parse_map(text);
  uint64_t end = 0;
  for (const MapRow& r : rows) {
    EXPECT_EQ(r.start, end);
    end = r.start + r.length;
  }
  EXPECT_EQ(end, disk);
  size_t i = 0, j = 0;
  while (i < rows.size() && j < qemu.size()) {
    const MapRow& g = rows[i];
    const MapExtent& x = qemu[j];
    const uint64_t lo = std::max(g.start, x.start);
    const uint64_t hi = std::min(g.start + g.length, x.end());
    const std::string ctx = fmt::format("map row [0x{:x}, +0x{:x}) {} vs qemu [0x{:x}, +0x{:x}) depth {}",
                                        g.start, g.length, g.kind, x.start, x.length, x.depth);
    if (lo < hi) {
      if (x.depth == 0 && x.present && x.offset) {
        EXPECT_TRUE(g.kind == "data" || g.kind == "zero") << ctx;
        ASSERT_TRUE(g.host.has_value()) << ctx;
        EXPECT_EQ(*g.host + (lo - g.start), *x.offset + (lo - x.start)) << ctx;
      } else if (is_compressed_extent(x)) {
        EXPECT_EQ(g.kind, "compressed") << ctx;
      } else if (x.depth == 0 && x.present) {
        EXPECT_EQ(g.kind, "zero") << ctx;
      } else {
        EXPECT_EQ(g.kind, "unallocated") << ctx;
      }
    }
    if (g.start + g.length <= x.end())
      ++i;
    else
      ++j;
  }
}

class MountEachFixture : public ::testing::TestWithParam<FixtureSpec> {};

TEST_P(MountEachFixture, EveryFileMatchesTheEngineAndQemu) {
  if (std::string why = fuse_unavailable(); !why.empty()) GTEST_SKIP() << why;
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const FixtureSpec spec = GetParam();
  const std::string image = build_fixture(dir, spec);
  ASSERT_FALSE(image.empty());
  Mount m(image, dir.file("mnt"));
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string status = m.wait_for_check();

  auto img = Image::open(image);
  ASSERT_TRUE(img.ok()) << img.status().message();
  auto checked = check_image(**img);
  ASSERT_TRUE(checked.ok()) << checked.status().message();

  // status: the check's verdict, and qcow2-dump's exit code once its check mode exists.
  EXPECT_EQ(status, fmt::format("{} {}\n", status_word(checked->status), exit_code(checked->status)));
  const CommandResult dump = run_dump({"-m", "check", image}, dir.path());
  if (dump.exit_code >= 0 && dump.exit_code <= 6) {
    EXPECT_EQ(status.substr(status.find(' ') + 1), fmt::format("{}\n", dump.exit_code)) << dump.describe();
  }

  // Every file: st_size is the number of bytes read; ASCII lines.
  const auto files = walk_tree(m.dir());
  std::set<std::string> names;
  for (const TreeFile& f : files) {
    names.insert(f.rel);
    if (f.dir) continue;
    const std::string text = m.read(f.rel);
    EXPECT_EQ(f.size, text.size()) << f.rel;
    EXPECT_TRUE(is_ascii_text(text)) << f.rel;
    EXPECT_TRUE(!text.empty() && text.back() == '\n') << f.rel;
  }
  for (const char* want : {"header", "features", "extensions", "snapshots", "l1", "l2", "refcount",
                           "refcount/table", "map", "clusters", "report.txt", "report.json",
                           "status", "ctl", "ctl/README"})
    EXPECT_TRUE(names.count(want)) << want;

  // header agrees with qemu-img info.
  const auto info = qemu_img_json({"info", image}, dir.path());
  const std::string header = m.read("header");
  ASSERT_EQ(row(header, "size").size(), 5u) << header;
  EXPECT_EQ(parse_hex(row(header, "size")[1]), info.at("virtual-size").get<uint64_t>());
  EXPECT_EQ(std::stoull(row(header, "cluster_size").at(2)), info.at("cluster-size").get<uint64_t>());
  EXPECT_EQ(row(header, "version").at(2), fmt::to_string(spec.version));
  EXPECT_EQ(row(header, "refcount_bits").at(2), fmt::to_string(spec.refcount_bits()));
  EXPECT_EQ(row(header, "extended_l2").at(2), spec.extended_l2 ? "yes" : "no");
  if (spec.version == 2) {
    EXPECT_EQ(row(header, "incompatible_features").at(2), "absent(v2)");
  }
  if (spec.with_backing) {
    EXPECT_EQ(row(header, "backing_file").at(2), spec.backing_name());
  }

  // l2/ lists exactly the L1 entries that point at a table.
  auto l1 = (*img)->read_active_l1();
  ASSERT_TRUE(l1.ok());
  std::set<std::string> want_l2, got_l2;
  for (size_t i = 0; i < l1->size(); ++i)
    if ((*l1)[i] & 0x00fffffffffffe00ULL) want_l2.insert(fmt::format("l2/{}", i));
  for (const std::string& n : names)
    if (n.rfind("l2/", 0) == 0) got_l2.insert(n);
  EXPECT_EQ(got_l2, want_l2);

  expect_map_matches(m.read("map"), map_extents(qemu_img_json({"map", image}, dir.path())),
                     spec.virtual_size);

  // The report files are the engine's own renderings, byte for byte.
  StringSink txt;
  CheckTextOptions opt;
  opt.errors = true;
  render_check(**img, *checked, opt, Style(false), txt);
  EXPECT_EQ(m.read("report.txt"), txt.str());
  EXPECT_EQ(m.read("report.json"), check_to_json(**img, *checked).dump(2) + "\n");

  // Refcount blocks show the check's count beside the stored one.
  for (const std::string& n : names) {
    if (n.rfind("refcount/", 0) != 0 || n == "refcount/table") continue;
    for (const std::string& line : lines_of(m.read(n))) {
      if (line[0] == '#') continue;
      auto w = words_of(line);
      ASSERT_EQ(w.size(), 5u) << n << ": " << line;
      const char* mark = w[2] == w[3] ? "ok" : std::stoull(w[2]) > std::stoull(w[3]) ? "leak" : "error";
      EXPECT_EQ(w[4], mark) << n << ": " << line;
      if (checked->status == ImageStatus::kGood) {
        EXPECT_EQ(w[4], "ok") << n << ": " << line;
      }
    }
  }

  // One directory per snapshot, named by id, each with its own views.
  const auto& snaps = (*img)->snapshots().snapshots;
  ASSERT_EQ(snaps.size(), spec.snapshots.size());
  for (size_t i = 0; i < snaps.size(); ++i) {
    const std::string d = "snapshots/" + snaps[i].id;
    for (const char* child : {"", "/info", "/l1", "/l2"}) EXPECT_TRUE(names.count(d + child)) << d + child;
    EXPECT_EQ(row(m.read(d + "/info"), "name").at(1), spec.snapshots[i].name);
  }

  // What each kind of fixture adds.
  if (spec.extended_l2) {
    EXPECT_NE(m.read("l2/0").find("alloc"), std::string::npos);
  }
  if (spec.compressed) {
    EXPECT_NE(m.read("l2/0").find(" compressed "), std::string::npos);
  }
  if (spec.with_bitmap) {
    EXPECT_NE(m.read("clusters").find("bitmap-directory"), std::string::npos);
    bool found = false;
    for (const std::string& n : names) found |= n.rfind("extensions/", 0) == 0 && n.find("-bitmaps") != std::string::npos;
    EXPECT_TRUE(found);
  }
  if (spec.data_file) {
    bool found = false;
    for (const std::string& n : names)
      if (n.rfind("extensions/", 0) == 0 && n.find("-external-data-file") != std::string::npos) {
        found = true;
        EXPECT_EQ(m.read(n), spec.data_file_name() + "\n");
      }
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(m.unmount(), 0);
}

INSTANTIATE_TEST_SUITE_P(fuse, MountEachFixture, ::testing::ValuesIn(standard_fixtures()), FixtureName());

}  // namespace
}  // namespace qcow2::test
