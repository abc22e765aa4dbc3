// `qcow2-dump -R all` on every damage recipe, through the CLI as a user runs it:
// - no edit lands in a cluster that held guest data before the damage (the journal's records,
//   against the roles of the image as it was before the recipe damaged it);
// - guest data is never made worse: every cluster the damaged image still read as before reads
//   so after the repair, for qemu-img;
// - where every problem had a proven fix, the result is clean for us and for qemu-img check,
//   and a second plan is empty; where some had none, nothing new appears;
// - the undo journal puts the damaged bytes back exactly;
// - an image that cannot be walked is refused and left alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "engine/repair/journal_format.h"
#include "engine/repair/role_index.h"
#include "tests/check/all_recipes.h"
#include "tests/repair/repair_helpers.h"

namespace qcow2::test {
namespace {

using damage::Recipe;
using damage::RecipeParam;

// Settled by what -R all takes: a proposal that is not destructive, or another's.
bool settled(const Finding& f) {
  return f.category == Category::kInfo || (f.proposed.has_value() && f.risk != Risk::kDestructive) ||
         f.resolved_by.has_value();
}

std::set<std::string> problem_set(const Checked& c) {
  std::set<std::string> out;
  for (const Finding& f : c.res.findings)
    if (f.category != Category::kInfo) out.insert(f.code);
  return out;
}

class RepairAll : public ::testing::TestWithParam<RecipeParam> {
 protected:
  void SetUp() override { keep_pristine_copies(true); }
  void TearDown() override { keep_pristine_copies(false); }
};

TEST_P(RepairAll, NeverTouchesGuestDataAndLeavesTheImageNoWorse) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = GetParam().make(dir);
  ASSERT_FALSE(d.path.empty());
  // A recipe that damages no byte of the image (a missing backing file) leaves none.
  const std::string pristine = pristine_of(d.path);
  if (!std::filesystem::exists(pristine)) std::filesystem::copy_file(d.path, pristine);
  const std::string damaged_sha = sha256_file(d.path);
  const Checked first = check_file(d.path);
  ASSERT_TRUE(first.ok);
  bool complete = true;
  for (const Finding& f : first.res.findings) complete &= settled(f);

  const bool p_ok = qemu_img({"convert", "-O", "raw", pristine, dir.file("pristine.raw")}, dir.path()).ok();
  // QEMU cannot read some damaged images at all: then there is nothing to be no worse than.
  const bool d_ok = p_ok && qemu_img({"convert", "-O", "raw", d.path, dir.file("damaged.raw")}, dir.path()).ok();

  const CommandResult r = run_dump({"-R", "all", "-b", d.path}, dir.path());
  const std::vector<std::string> journals = journals_of(d.path);
  if (!first.img->walkable()) {
    EXPECT_EQ(r.exit_code, 64) << r.describe();
    EXPECT_TRUE(journals.empty());
    EXPECT_EQ(sha256_file(d.path), damaged_sha) << "a refused repair writes nothing";
    return;
  }
  ASSERT_LT(r.exit_code, 64) << r.describe();
  if (journals.empty()) {
    EXPECT_NE(r.out.find("nothing was written"), std::string::npos) << r.describe();
    EXPECT_EQ(sha256_file(d.path), damaged_sha);
    EXPECT_FALSE(complete && !first.problem_codes().empty())
        << "every problem had a proposal, yet nothing was planned:\n" << r.out << "\n" << first.describe();
    return;
  }
  ASSERT_EQ(journals.size(), 1u);

  // 1. Where the journal says it wrote: never into what was guest data before the damage.
  const Checked before_damage = check_file(pristine);
  ASSERT_TRUE(before_damage.ok && before_damage.img->walkable());
  const RoleIndex roles(before_damage.res, before_damage.img->geometry().cluster_bits);
  const std::vector<uint8_t> bytes = read_file_bytes(journals[0]);
  auto journal = decode_journal(bytes);
  ASSERT_TRUE(journal.ok()) << journal.status().message();
  EXPECT_TRUE(journal->applied());
  for (const JournalRecord& rec : journal->records) {
    if (rec.offset >= journal->size_before) continue;
    const uint64_t c = rec.offset >> before_damage.img->geometry().cluster_bits;
    const uint64_t pristine_size = std::filesystem::file_size(pristine);
    if (rec.offset >= pristine_size) continue;  // the damage grew the file: nothing was there
    const std::optional<Role> was = roles.role_of(rec.offset, std::max<size_t>(rec.new_bytes.size(), 1));
    ASSERT_TRUE(was.has_value()) << fmt::format("record at 0x{:x}", rec.offset);
    EXPECT_TRUE(*was != Role::kData && *was != Role::kCompressed && *was != Role::kVmState)
        << fmt::format("the repair wrote {} bytes at 0x{:x} (cluster {}), which held guest data ({}) before the "
                       "damage\n{}",
                       rec.new_bytes.size(), rec.offset, c, role_name(*was), r.out);
  }

  // 2. What the damaged image still read right, it reads right after.
  if (d_ok && qemu_img({"convert", "-O", "raw", d.path, dir.file("repaired.raw")}, dir.path()).ok()) {
    const std::vector<uint8_t> p = read_file_bytes(dir.file("pristine.raw"));
    const std::vector<uint8_t> dm = read_file_bytes(dir.file("damaged.raw"));
    const std::vector<uint8_t> rp = read_file_bytes(dir.file("repaired.raw"));
    ASSERT_EQ(p.size(), rp.size());
    const size_t block = 4096;
    size_t worse = 0, first_worse = 0;
    for (size_t at = 0; at < p.size() && at < dm.size(); at += block) {
      const size_t n = std::min(block, p.size() - at);
      const bool was_right = std::equal(p.begin() + at, p.begin() + at + n, dm.begin() + at);
      const bool is_right = std::equal(p.begin() + at, p.begin() + at + n, rp.begin() + at);
      if (was_right && !is_right && worse++ == 0) first_worse = at;
    }
    EXPECT_EQ(worse, 0u) << fmt::format("{} guest blocks read right before the repair and wrong after; the first "
                                        "at guest offset 0x{:x}\n{}",
                                        worse, first_worse, r.out);
  }

  // 3. Clean where everything was settled; nothing new otherwise.
  const Checked after = check_file(d.path, [] {
    CheckOptions o;
    o.skip_backing = true;
    return o;
  }());
  ASSERT_TRUE(after.ok);
  if (complete) {
    EXPECT_EQ(after.problem_codes(), std::vector<std::string>{}) << after.describe() << "\n" << r.out;
    const QemuCheck q = qemu_check(d.path);
    if (q.ran) {
      EXPECT_EQ(q.corruptions, 0u) << q.err;
      EXPECT_EQ(q.leaks, 0u) << q.err;
    }
  } else {
    const std::set<std::string> before = problem_set(first), now = problem_set(after);
    for (const std::string& code : now)
      EXPECT_TRUE(before.count(code)) << "the repair made a new problem: " << code << "\n" << after.describe()
                                      << "\n" << r.out;
  }
  const CommandResult again = run_dump({"-R", "all", "-b", "--dry-run", d.path}, dir.path());
  EXPECT_NE(again.out.find("edits: 0\n"), std::string::npos) << "a second plan must be empty:\n" << again.out;

  // 4. The journal puts the damaged bytes back.
  const CommandResult undo = run_dump({"--undo", journals[0], "-b", d.path}, dir.path());
  EXPECT_LT(undo.exit_code, 64) << undo.describe();
  EXPECT_EQ(sha256_file(d.path), damaged_sha) << "undo restores the image byte for byte";
}

INSTANTIATE_TEST_SUITE_P(AllDamage, RepairAll, ::testing::ValuesIn(damage::recipe_params()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace qcow2::test
