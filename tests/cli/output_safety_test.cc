// Output that cannot break: names from the image are arbitrary bytes, yet every text line
// stays one printable line, every JSON document is valid UTF-8 (and parses), suggested commands
// quote names for the shell, and 64-bit values in JSON are strings no reader rounds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/check/all_recipes.h"

namespace qcow2::test {
namespace {

bool printable_lines(const std::string& s) {
  for (unsigned char c : s)
    if (c != '\n' && (c < 0x20 || c >= 0x7f) && c != 0x1b) return false;
  return true;
}

// Overwrites the first byte of snapshot 0's name with 0xff and its second with a newline.
std::string snapshot_with_bad_name(const TempDir& dir) {
  const std::string p = damage::two_snapshots(dir);
  if (p.empty()) return "";
  const uint64_t e = damage::snapshot_entry(p, 0);
  const uint64_t name = e + 40 + peek(p, e + 36, 4) + peek(p, e + 12, 2);
  if (!poke(p, name, 1, 0xff) || !poke(p, name + 1, 1, '\n')) return "";
  // And make the snapshot's L1 unaligned, so that a finding quotes the name.
  if (!poke(p, e, 8, peek(p, e, 8) + 0x200)) return "";
  return p;
}

TEST(cliOutputSafety, NamesWithAnyBytesKeepTextAndJsonWhole) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = snapshot_with_bad_name(dir);
  ASSERT_FALSE(p.empty());
  for (const std::vector<std::string>& mode : std::vector<std::vector<std::string>>{
           {"-m", "error"}, {"-m", "info"}, {"-m", "dump"}, {}}) {
    std::vector<std::string> args = mode;
    args.push_back(p);
    const CommandResult r = run_dump(args);
    // Info mode lists the snapshot's bad L1 pointer but judges only the table itself.
    EXPECT_EQ(r.exit_code, mode.size() == 2 && mode[1] == "info" ? 0 : 5) << r.describe();
    EXPECT_TRUE(printable_lines(r.out)) << "a raw byte reached the output of " << r.command;
    EXPECT_NE(r.out.find("\\xff\\x0a"), std::string::npos) << "the name is shown escaped: " << r.command;
  }
  const CommandResult js = run_dump({"--output=json", p});
  EXPECT_EQ(js.exit_code, 5) << js.describe();
  const nlohmann::json j = nlohmann::json::parse(js.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << js.out.substr(0, 400);
  EXPECT_NE(j.dump().find("\\\\xff"), std::string::npos) << "the name is in the JSON, escaped";
}

TEST(cliOutputSafety, SuggestedCommandsQuoteNamesForTheShell) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = damage::small_image(dir);
  ASSERT_FALSE(p.empty());
  ASSERT_TRUE(qemu_img({"bitmap", "--add", p, "x; echo PWNED"}, dir.path()).ok());
  // IN_USE set, so a finding suggests removing the bitmap by name.
  auto img = Image::open(p);
  ASSERT_TRUE(img.ok() && (*img)->extensions().bitmaps);
  const uint64_t entry = (*img)->extensions().bitmaps->directory_offset;
  ASSERT_TRUE(poke(p, entry + 12, 4, peek(p, entry + 12, 4) | 1));

  const CommandResult r = run_dump({"-m", "error", p});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("qemu-img bitmap --remove -- " + p + " 'x; echo PWNED'"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("--remove " + p + " x; echo"), std::string::npos) << "unquoted: " << r.out;
  EXPECT_NE(r.out.find("1 warning"), std::string::npos) << "the banner counts the warning: " << r.out;

  // The suggested command runs as written: the shell sees one word, and nothing is echoed.
  std::string cmd;
  for (const std::string& line : [&] {
         std::vector<std::string> v;
         size_t at = 0;
         while (at < r.out.size()) {
           size_t nl = r.out.find('\n', at);
           v.push_back(r.out.substr(at, nl - at));
           at = nl == std::string::npos ? r.out.size() : nl + 1;
         }
         return v;
       }())
    if (line.rfind("    fix: qemu-img bitmap --remove -- ", 0) == 0) cmd = line.substr(9);
  ASSERT_FALSE(cmd.empty()) << r.out;
  const CommandResult sh = run({"sh", "-c", "set -- " + cmd.substr(std::string("qemu-img bitmap --remove -- ").size()) +
                                                "; printf '%s\\n' \"$#\" \"$2\""});
  EXPECT_EQ(sh.out, "2\nx; echo PWNED\n") << sh.describe();
}

TEST(cliOutputSafety, SixtyFourBitValuesAreHexStringsInJson) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::clear_copied_l2(dir);  // a COPIED proposal: bit 63
  ASSERT_FALSE(d.path.empty());
  const CommandResult js = run_dump({"--output=json", d.path});
  const nlohmann::json j = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << js.out;
  bool seen = false;
  for (const auto& f : j["findings"]) {
    if (f["code"] != "copied-l2") continue;
    seen = true;
    ASSERT_TRUE(f["proposed"].is_string()) << f.dump();
    EXPECT_EQ(f["proposed"].get<std::string>(), fmt::format("0x{:x}", d.before[0])) << f.dump();
    EXPECT_EQ(f["current"].get<std::string>(), fmt::format("0x{:x}", d.before[0] & ~kEntryCopied)) << f.dump();
    EXPECT_EQ(f["mask"].get<std::string>(), "0x8000000000000000") << f.dump();
    EXPECT_TRUE(f["file-offset"].is_string()) << f.dump();
    EXPECT_EQ(f["risk"], "safe") << f.dump();
  }
  EXPECT_TRUE(seen) << js.out;
}

}  // namespace
}  // namespace qcow2::test
