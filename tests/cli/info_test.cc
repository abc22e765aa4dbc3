// qcow2-dump -m info against `qemu-img info`: the facts both report must agree on every
// standard fixture.
#include <gtest/gtest.h>

#include <regex>

#include "engine/render/snapshot_text.h"
#include "tests/cli/dump_lines.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

// The value of a top-level "name:   value" line of the header block ("" when absent).
std::string field(const std::string& out, const std::string& name) {
  for (const std::string& line : split_lines(out)) {
    if (line.rfind(name + ":", 0) != 0) continue;
    std::string v = line.substr(name.size() + 1);
    v.erase(0, v.find_first_not_of(' '));
    return v;
  }
  return "";
}

std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

// The line after `title` that starts with "    key:", value trimmed ("" when absent).
std::string block_field(const std::string& out, const std::string& title, const std::string& key) {
  bool in = false;
  for (const std::string& line : split_lines(out)) {
    if (line == title) {
      in = true;
      continue;
    }
    if (!in) continue;
    if (line.rfind("    ", 0) != 0) break;
    if (line.rfind("    " + key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 5);
      v.erase(0, v.find_first_not_of(' '));
      return v;
    }
  }
  return "";
}

class InfoVsQemuInfo : public ::testing::TestWithParam<FixtureSpec> {};

TEST_P(InfoVsQemuInfo, SameFacts) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const FixtureSpec spec = GetParam();
  const std::string image = build_fixture(dir, spec);
  ASSERT_FALSE(image.empty());
  CommandResult r = run_dump({"-m", "info", image}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err, "");
  const std::string& out = r.out;
  const auto q = qemu_img_json({"info", image}, dir.path());
  ASSERT_TRUE(q.is_object());
  const auto& qd = q["format-specific"]["data"];

  EXPECT_EQ(out.rfind("File: " + image + "\n", 0), 0u) << out;
  EXPECT_EQ(first_word(field(out, "virtual_size")), std::to_string(q["virtual-size"].get<uint64_t>()));
  EXPECT_EQ(field(out, "cluster_size"), std::to_string(q["cluster-size"].get<uint64_t>()));
  EXPECT_EQ(first_word(field(out, "disk_size")), std::to_string(q["actual-size"].get<uint64_t>()));
  EXPECT_EQ(field(out, "version"), qd["compat"] == "0.10" ? "2" : "3");
  EXPECT_EQ(field(out, "refcount_bits"), std::to_string(qd["refcount-bits"].get<int>()));
  EXPECT_EQ(field(out, "dirty"), q["dirty-flag"].get<bool>() ? "true" : "false");
  // qemu-img leaves out what a version 2 image cannot have.
  const auto flag = [&](const char* key) {
    return qd.value(key, false) ? std::string("true") : std::string("false");
  };
  EXPECT_EQ(first_word(field(out, "compression_type")), qd.value("compression-type", "zlib"));
  EXPECT_EQ(field(out, "extended_l2"), flag("extended-l2"));
  EXPECT_EQ(field(out, "lazy_refcounts"), flag("lazy-refcounts"));
  EXPECT_EQ(field(out, "corrupt"), flag("corrupt"));

  // Snapshots, in table order.
  static const std::regex snap_line(R"(^snapshot\[ *(\d+)\]: id (.*), name (.*)$)");
  std::vector<std::pair<std::string, std::string>> ours;
  for (const std::string& line : split_lines(out)) {
    std::smatch m;
    if (std::regex_match(line, m, snap_line)) ours.emplace_back(m[2], m[3]);
  }
  const auto qs = q.value("snapshots", nlohmann::json::array());
  ASSERT_EQ(ours.size(), qs.size()) << out;
  EXPECT_EQ(field(out, "nb_snapshots"), std::to_string(qs.size()));
  EXPECT_EQ(ours.size(), spec.snapshots.size());
  for (size_t i = 0; i < qs.size(); ++i) {
    EXPECT_EQ(ours[i].first, qs[i]["id"].get<std::string>());
    EXPECT_EQ(ours[i].second, qs[i]["name"].get<std::string>());
    EXPECT_NE(out.find("date: " + snapshot_date(qs[i]["date-sec"].get<uint32_t>())), std::string::npos);
    EXPECT_NE(out.find(fmt::format("vm_state_size: {},", qs[i]["vm-state-size"].get<uint64_t>())),
              std::string::npos);
  }

  // Backing file and its format.
  if (q.contains("backing-filename")) {
    EXPECT_EQ(field(out, "backing_file"), q["backing-filename"].get<std::string>());
    EXPECT_EQ(block_field(out, "Backing file:", "name"), q["backing-filename"].get<std::string>());
    EXPECT_EQ(block_field(out, "Backing file:", "path"),
              dir.file(spec.backing_name()) + " (beside the image)");
    EXPECT_EQ(block_field(out, "Backing file:", "format"),
              q.value("backing-filename-format", "(no backing format extension)"));
  } else {
    EXPECT_EQ(field(out, "backing_file"), "");
    EXPECT_EQ(out.find("Backing file:"), std::string::npos);
    EXPECT_FALSE(spec.with_backing);
  }

  // External data file.
  if (qd.contains("data-file")) {
    EXPECT_EQ(block_field(out, "Data file:", "name"), qd["data-file"].get<std::string>());
    EXPECT_NE(block_field(out, "Data file:", "path"), "not found");
    EXPECT_EQ(field(out, "data_file"), "true");
  } else {
    EXPECT_EQ(field(out, "data_file"), "false");
    EXPECT_FALSE(spec.data_file);
  }

  // Bitmaps: name and granularity.
  static const std::regex bitmap_line(R"(^bitmap\[(\d+)\]: name (.*), granularity: (\d+), flags: .*$)");
  std::vector<std::pair<std::string, uint64_t>> bitmaps;
  for (const std::string& line : split_lines(out)) {
    std::smatch m;
    if (std::regex_match(line, m, bitmap_line)) bitmaps.emplace_back(m[2], std::stoull(m[3]));
  }
  const auto qb = qd.value("bitmaps", nlohmann::json::array());
  ASSERT_EQ(bitmaps.size(), qb.size()) << out;
  for (size_t i = 0; i < qb.size(); ++i) {
    EXPECT_EQ(bitmaps[i].first, qb[i]["name"].get<std::string>());
    EXPECT_EQ(bitmaps[i].second, qb[i]["granularity"].get<uint64_t>());
  }
  EXPECT_EQ(bitmaps.size(), spec.with_bitmap ? 1u : 0u);

  EXPECT_EQ(out.find("Header problems:"), std::string::npos) << out;
  EXPECT_EQ(out.find("\033["), std::string::npos) << "no colour when stdout is not a terminal";
}

INSTANTIATE_TEST_SUITE_P(cli, InfoVsQemuInfo, ::testing::ValuesIn(standard_fixtures()),
                         FixtureName());

}  // namespace
}  // namespace qcow2::test
