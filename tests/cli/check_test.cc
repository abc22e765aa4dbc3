// qcow2-dump's check modes through the real binary: `-m check` (the default), `-m error` and
// `--output=json`. Healthy fixtures come out good and agree with `qemu-img check`; each image
// status is reached with a real damaged image (tests/check/damage_recipes.h) and shows in the
// banner, the exit code and the JSON alike; `-m error` gives context and interpolated values;
// tool failures stay at 64 and above; and no run changes a byte of the image.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <memory>

#include "tests/check/all_recipes.h"
#include "tests/cli/dump_lines.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

using damage::Damaged;
using damage::Recipe;

std::string banner(const std::string& word, int code) {
  return fmt::format("\n####  status: {} (exit {})  ####\n", word, code);
}

std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// stdout parsed as JSON; null (after failing the test) when it is not.
nlohmann::json parse_json(const CommandResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << r.describe();
    return nullptr;
  }
  return j;
}

// The findings of a JSON result with `code`.
std::vector<nlohmann::json> findings_with(const nlohmann::json& j, const std::string& code) {
  std::vector<nlohmann::json> out;
  if (!j.is_object() || !j.contains("findings")) return out;
  for (const auto& f : j["findings"])
    if (f.value("code", "") == code) out.push_back(f);
  return out;
}

// Damaged images, each made once per run in its own directory (every recipe names its image
// a.qcow2) and shared by all the tests below: none of them may change a byte of it, which the
// read-only test asserts. The directories go when the test program exits.
struct Made {
  std::unique_ptr<TempDir> dir;
  Damaged d;
};

const Damaged& damaged(const std::string& name, Recipe recipe) {
  static std::map<std::string, Made> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    Made m;
    m.dir = std::make_unique<TempDir>();
    m.d = recipe(*m.dir);
    it = cache.emplace(name, std::move(m)).first;
  }
  return it->second.d;
}

Recipe recipe_named(const std::string& name) {
  for (const auto& [n, r] : damage::all_recipes())
    if (n == name) return r;
  ADD_FAILURE() << "no damage recipe " << name;
  return nullptr;
}

const Damaged& damaged(const std::string& name) {
  static const Damaged none;
  const Recipe r = recipe_named(name);
  return r ? damaged(name, r) : none;
}

CommandResult check(const Damaged& d, std::vector<std::string> args) {
  args.push_back(d.path);
  return run_dump(args, dir_of(d.path));
}

// --- healthy images ----------------------------------------------------------------------

class cliCheckHealthy : public ::testing::TestWithParam<FixtureSpec> {
 protected:
  static void SetUpTestSuite() { dir_ = new TempDir; }  // fixtures' file names differ
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};
TempDir* cliCheckHealthy::dir_ = nullptr;

TEST_P(cliCheckHealthy, GoodExit0AndQemuImgCheckCounters) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const FixtureSpec& spec = GetParam();
  const std::string image = build_fixture(*dir_, spec);
  ASSERT_FALSE(image.empty());

  CommandResult text = run_dump({image}, dir_->path());  // the default mode is check
  EXPECT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_EQ(text.err, "");
  EXPECT_NE(text.out.find(banner("good", 0)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\nNo errors were found on the image.\n"), std::string::npos);

  CommandResult js = run_dump({"-m", "check", "--output=json", image}, dir_->path());
  EXPECT_EQ(js.exit_code, 0) << js.describe();
  EXPECT_EQ(js.err, "");
  const nlohmann::json j = parse_json(js);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.value("status", ""), "good");
  EXPECT_EQ(j.value("exit-code", -1), 0);
  ASSERT_TRUE(j.contains("findings") && j["findings"].is_array()) << js.out;
  for (const auto& f : j["findings"]) EXPECT_EQ(f.value("category", ""), "info") << f.dump();

  const QemuCheck q = qemu_check(image);
  ASSERT_TRUE(q.ran) << "qemu-img check failed (exit " << q.exit_code << "): " << q.err;
  const std::pair<const char*, uint64_t> want[] = {
      {"check-errors", q.check_errors},
      {"leaks", q.leaks},
      {"corruptions", q.corruptions},
      {"image-end-offset", q.image_end_offset},
      {"total-clusters", q.total_clusters},
      {"allocated-clusters", q.allocated_clusters},
      {"fragmented-clusters", q.fragmented_clusters},
      {"compressed-clusters", q.compressed_clusters},
  };
  for (const auto& [key, value] : want) {
    ASSERT_TRUE(j.contains(key)) << key << " missing: " << js.out;
    EXPECT_EQ(j[key].get<uint64_t>(), value) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, cliCheckHealthy, ::testing::ValuesIn(standard_fixtures()), FixtureName());

// --- every status, through the CLI ---------------------------------------------------------

struct StatusCase {
  std::string recipe;
  std::string word;  // status_word
  int exit_code;
  std::string code;  // a finding the damage must produce, at the recipe's `at`
};

void PrintTo(const StatusCase& c, std::ostream* os) { *os << c.word; }

std::vector<StatusCase> status_cases() {
  return {
      {"free_cluster_refcount", "leaks", 1, "refcount-leak"},
      {"clear_copied_l2", "copied", 2, "copied-l2"},
      {"corrupt_bit", "corrupt-flag", 3, "header-corrupt-bit"},
      {"zero_refcount", "refcount-error", 4, "refcount-zero"},
      {"snapshot_l1_unaligned", "snapshot-damaged", 5, "snapshot-l1"},
      {"l2_unaligned", "corrupt", 6, "l2-unaligned"},
  };
}

class cliCheckStatus : public ::testing::TestWithParam<StatusCase> {};

TEST_P(cliCheckStatus, BannerExitCodeErrorLinesAndJsonAgree) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const StatusCase& c = GetParam();
  const Damaged& d = damaged(c.recipe);
  ASSERT_FALSE(d.path.empty());

  CommandResult summary = check(d, {"-m", "check"});
  EXPECT_EQ(summary.exit_code, c.exit_code) << summary.describe();
  EXPECT_EQ(summary.err, "") << "an image status is not a tool failure";
  EXPECT_NE(summary.out.find(banner(c.word, c.exit_code)), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find(" " + c.code + "="), std::string::npos) << "findings by code: " << summary.out;
  EXPECT_EQ(run_dump({d.path}, dir_of(d.path)).out, summary.out) << "check is the default mode";

  CommandResult js = check(d, {"--output=json"});
  EXPECT_EQ(js.exit_code, c.exit_code) << js.describe();
  const nlohmann::json j = parse_json(js);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.value("status", ""), c.word);
  EXPECT_EQ(j.value("exit-code", -1), c.exit_code);
  ASSERT_TRUE(j.contains("findings") && j["findings"].is_array());
  const auto mine = findings_with(j, c.code);
  ASSERT_EQ(mine.size(), 1u) << js.out;
  // Offsets are "0x…" strings: no JSON reader may round a 64-bit value.
  EXPECT_EQ(mine[0].value("file-offset", ""), fmt::format("0x{:x}", d.at)) << mine[0].dump();
  for (const char* key : {"code", "category", "severity", "risk", "table", "message", "fix"})
    EXPECT_TRUE(mine[0].contains(key)) << key << ": " << mine[0].dump();

  CommandResult errors = check(d, {"-m", "error"});
  EXPECT_EQ(errors.exit_code, c.exit_code) << errors.describe();
  EXPECT_NE(errors.out.find(banner(c.word, c.exit_code)), std::string::npos) << errors.out;
  EXPECT_NE(errors.out.find("\nFindings:\n"), std::string::npos) << errors.out;
  // Every finding the JSON lists is printed with its code, and the one we made with its offset.
  for (const auto& f : j["findings"]) {
    const std::string code = f.value("code", "");
    EXPECT_NE(errors.out.find("[" + code + "]"), std::string::npos) << code << "\n" << errors.out;
  }
  bool located = false;
  for (const std::string& line : split_lines(errors.out))
    located |= line.find("[" + c.code + "]") != std::string::npos &&
               line.find(fmt::format(" at 0x{:x} ", d.at)) != std::string::npos;
  EXPECT_TRUE(located) << fmt::format("no [{}] line at 0x{:x}:\n", c.code, d.at) << errors.out;
}

INSTANTIATE_TEST_SUITE_P(cli, cliCheckStatus, ::testing::ValuesIn(status_cases()),
                         [](const auto& info) { return info.param.recipe; });

// The JSON of the same image, asked for with -m error, is the same document.
TEST(cliCheckJson, ErrorModeGivesTheSameJson) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damaged& d = damaged("l2_unaligned");
  ASSERT_FALSE(d.path.empty());
  CommandResult a = check(d, {"--output=json"});
  CommandResult b = check(d, {"-m", "error", "-o", "json"});
  EXPECT_EQ(a.exit_code, 6);
  EXPECT_EQ(b.exit_code, 6);
  EXPECT_EQ(a.out, b.out);
}

// --- -m error: context and interpolation -----------------------------------------------------

// The lines of `out`; the index of the first one starting with `prefix` and containing `needle`.
size_t find_line(const std::vector<std::string>& lines, const std::string& prefix, const std::string& needle) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind(prefix, 0) == 0 && lines[i].find(needle) != std::string::npos) return i;
  return lines.size();
}

TEST(cliCheckErrorMode, L1LineDirectlyAboveTheBadL2Entry) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damaged& d = damaged("l2_unaligned");  // L2 entry 1 of the table at L1 entry 0
  ASSERT_FALSE(d.path.empty());
  const uint64_t l2 = d.at - 8;
  CommandResult r = check(d, {"-m", "error"});
  EXPECT_EQ(r.exit_code, 6) << r.describe();
  const auto lines = split_lines(r.out);
  const size_t bad = find_line(lines, fmt::format("    l2 table[{:4}], ", 1), fmt::format(" at 0x{:x} ", d.at));
  ASSERT_LT(bad, lines.size()) << r.out;
  EXPECT_NE(lines[bad].find("[l2-unaligned]"), std::string::npos) << lines[bad];
  EXPECT_NE(lines[bad].find(fmt::format("| vdisk offset: 0x{:x}", damage::kCluster)), std::string::npos)
      << lines[bad];
  ASSERT_GT(bad, 0u);
  EXPECT_EQ(lines[bad - 1], fmt::format("l1 table[{:4}], l2 offset: 0x{:x}", 0, l2)) << r.out;
}

// l2_unaligned, and COPIED cleared on L2 entry 0 of the same table: the COPIED finding comes
// after the refcount lines, and still gets its L1 line.
Damaged l2_unaligned_and_copied(const TempDir& dir) {
  Damaged d = damage::l2_unaligned(dir);
  if (d.path.empty()) return d;
  const uint64_t e0 = d.at - 8;
  const uint64_t old = peek(d.path, e0, 8);
  if (!(old & kEntryCopied) || !poke(d.path, e0, 8, old & ~kEntryCopied)) return {};
  d.before.push_back(old);
  return d;
}

TEST(cliCheckErrorMode, EveryBadL2LineHasItsL1LineAbove) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damaged& d = damaged("l2_unaligned_and_copied", l2_unaligned_and_copied);
  ASSERT_FALSE(d.path.empty());
  const uint64_t l2 = d.at - 8;
  const std::string l1_line = fmt::format("l1 table[{:4}], l2 offset: 0x{:x}", 0, l2);
  CommandResult r = check(d, {"-m", "error"});
  EXPECT_EQ(r.exit_code, 6) << r.describe();
  const auto lines = split_lines(r.out);
  size_t seen = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("    l2 table[", 0) != 0) continue;
    ++seen;
    // Up past the other L2 entries of the same table and their fix lines.
    size_t k = i;
    while (k > 0 && (lines[k - 1].rfind("    l2 table[", 0) == 0 || lines[k - 1].rfind("        fix: ", 0) == 0)) --k;
    ASSERT_GT(k, 0u);
    EXPECT_EQ(lines[k - 1], l1_line) << "context of: " << lines[i] << "\n" << r.out;
  }
  EXPECT_EQ(seen, 2u) << r.out;
  EXPECT_NE(r.out.find("[copied-l2]"), std::string::npos) << r.out;
}

TEST(cliCheckErrorMode, InterpolatedValuesAndTheirFileOffsets) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damaged& d = damaged("garbled_run");  // entries 3..5 garbled; at: entry 3
  ASSERT_FALSE(d.path.empty());
  ASSERT_EQ(d.before.size(), 8u);
  CommandResult r = check(d, {"-m", "error"});
  EXPECT_EQ(r.exit_code, 6) << r.describe();
  const auto lines = split_lines(r.out);
  for (uint64_t i = 3; i <= 5; ++i) {
    const uint64_t at = d.at + 8 * (i - 3);
    const std::string value = fmt::format("0x{:016x}", d.before[i]);
    const size_t bad = find_line(lines, fmt::format("    l2 table[{:4}], ", i), fmt::format(" at 0x{:x} ", at));
    ASSERT_LT(bad, lines.size()) << "entry " << i << "\n" << r.out;
    ASSERT_LT(bad + 1, lines.size());
    ASSERT_LT(bad + 2, lines.size());
    EXPECT_EQ(lines[bad + 1].rfind("        fix: ", 0), 0u) << lines[bad + 1];
    EXPECT_NE(lines[bad + 1].find(value), std::string::npos) << "entry " << i << ": " << lines[bad + 1];
    // The proposal line: old and new value, the exact bytes, the risk.
    EXPECT_EQ(lines[bad + 2].rfind("        proposed: ", 0), 0u) << lines[bad + 2];
    EXPECT_NE(lines[bad + 2].find("-> " + value), std::string::npos) << lines[bad + 2];
    EXPECT_NE(lines[bad + 2].find(fmt::format("8 bytes at 0x{:x}", at)), std::string::npos) << lines[bad + 2];
    EXPECT_NE(lines[bad + 2].find("risky"), std::string::npos) << lines[bad + 2];
  }

  const nlohmann::json j = parse_json(check(d, {"--output=json"}));
  const auto f = findings_with(j, "l2-unaligned");
  ASSERT_EQ(f.size(), 3u) << j.dump(2);
  for (uint64_t i = 3; i <= 5; ++i) {
    const auto& x = f[i - 3];
    EXPECT_EQ(x.value("file-offset", ""), fmt::format("0x{:x}", d.at + 8 * (i - 3))) << x.dump();
    EXPECT_EQ(x.value("width", 0), 8) << x.dump();
    EXPECT_EQ(x.value("index", uint64_t{0}), i) << x.dump();
    EXPECT_EQ(x.value("guest-offset", ""), fmt::format("0x{:x}", i * damage::kCluster)) << x.dump();
    EXPECT_EQ(x.value("proposed", ""), fmt::format("0x{:x}", d.before[i])) << x.dump();
    EXPECT_EQ(x.value("risk", ""), "risky") << x.dump();
  }
}

// --- advice -----------------------------------------------------------------------------------

TEST(cliCheckAdvice, LeaksOnlyNameTheLeakRepair) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damaged& d = damaged("free_cluster_refcount");
  ASSERT_FALSE(d.path.empty());
  for (const char* mode : {"check", "error"}) {
    CommandResult r = check(d, {"-m", mode});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.out.find("qemu-img check -r leaks"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("-r all"), std::string::npos) << "a leak needs no full repair: " << r.out;
  }
}

TEST(cliCheckAdvice, StructuralDamageWarnsAgainstRepairAll) {
  QCOW2_SKIP_WITHOUT_QEMU();
  for (const char* recipe : {"l2_unaligned", "garbled_run"}) {
    const Damaged& d = damaged(recipe);
    ASSERT_FALSE(d.path.empty());
    CommandResult r = check(d, {"-m", "check"});
    EXPECT_EQ(r.exit_code, 6) << r.describe();
    const size_t at = r.out.find(banner("corrupt", 6));
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_NE(r.out.find("do NOT run qemu-img check -r all", at), std::string::npos) << r.out.substr(at);
  }
}

// --- tool failures ------------------------------------------------------------------------

void expect_tool_failure(const CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.describe();
  EXPECT_GE(r.exit_code, 64) << "tool failures never look like an image status";
  const auto lines = split_lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.describe();
  EXPECT_EQ(lines[0].rfind("qcow2-dump: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(needle), std::string::npos) << "expected '" << needle << "' in: " << lines[0];
  EXPECT_EQ(r.out, "");
}

TEST(cliCheckFailures, ExitAt64AndAboveWithOneLine) {
  TempDir dir;
  const std::string missing = dir.file("nosuch.qcow2");
  const std::string text = dir.file("notes.txt");
  {
    std::string bytes;
    for (int i = 0; i < 100; ++i) bytes += "this is a text file, not a disk image\n";
    std::ofstream(text, std::ios::binary) << bytes;
  }
  const std::vector<std::vector<std::string>> modes = {{}, {"-m", "check"}, {"-m", "error"}, {"--output=json"}};
  for (const auto& mode : modes) {
    SCOPED_TRACE(mode.empty() ? "default" : mode.back());
    std::vector<std::string> args = mode;
    args.push_back(missing);
    expect_tool_failure(run_dump(args), 66, "nosuch.qcow2");
    args.back() = text;
    expect_tool_failure(run_dump(args), 65, "magic");
    args.insert(args.begin(), "--frobnicate");
    expect_tool_failure(run_dump(args), 64, "frobnicate");
  }
  for (const char* mode : {"dump", "info"})
    expect_tool_failure(run_dump({"--output=json", "-m", mode, missing}), 64, "--output=json");
}

// --- read-only --------------------------------------------------------------------------------

// Every damage recipe: check, error and JSON runs agree on the status, and leave the image's
// bytes alone.
class cliCheckReadOnly : public ::testing::TestWithParam<std::pair<std::string, Recipe>> {};

TEST_P(cliCheckReadOnly, StatusAgreesAndNoByteChanges) {
  QCOW2_SKIP_WITHOUT_QEMU();
  const Damaged& d = damaged(GetParam().first, GetParam().second);
  ASSERT_FALSE(d.path.empty());
  const std::string before = sha256_file(d.path);
  ASSERT_FALSE(before.empty());

  CommandResult js = check(d, {"--output=json"});
  ASSERT_FALSE(js.timed_out);
  const nlohmann::json j = parse_json(js);
  ASSERT_TRUE(j.is_object());
  const int code = j.value("exit-code", -1);
  EXPECT_GE(code, 0);
  EXPECT_LE(code, 6);
  EXPECT_EQ(js.exit_code, code) << js.describe();
  for (const char* mode : {"check", "error"}) {
    CommandResult r = check(d, {"-m", mode});
    EXPECT_EQ(r.exit_code, code) << r.describe();
    EXPECT_NE(r.out.find(banner(j.value("status", "?"), code)), std::string::npos) << r.out;
  }
  EXPECT_EQ(sha256_file(d.path), before) << "qcow2-dump changed " << d.path;
}

INSTANTIATE_TEST_SUITE_P(cli, cliCheckReadOnly, ::testing::ValuesIn(damage::all_recipes()),
                         [](const auto& info) { return info.param.first; });

}  // namespace
}  // namespace qcow2::test
