// Findings are facts a repair can apply: for every damage recipe, write every proposed value of
// one check with the project's byte poker, then check again. The proposals of one check must
// agree with each other: where every problem had a proposal (or was resolved by another's), the
// image is then clean for us and for qemu-img check and a second check proposes nothing; where
// some had none, what remains is a subset of what was there, and nothing new appears. Every
// proposal lies in a metadata cluster: none writes into guest data.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/format/extent.h"
#include "tests/check/all_recipes.h"

namespace qcow2::test {
namespace {

using damage::Recipe;
using damage::RecipeParam;

bool settled(const Finding& f) {
  return f.category == Category::kInfo || f.proposed.has_value() || f.resolved_by.has_value();
}

// Whether cluster c is metadata (or the header) in the check's cluster roles.
bool in_metadata(const CheckResult& r, uint64_t c) {
  for (const MetaRange& m : r.metadata)
    if (m.first <= c && c < m.first + m.count) return true;
  return false;
}

std::set<std::string> problem_set(const Checked& c) {
  std::set<std::string> out;
  for (const Finding& f : c.res.findings)
    if (f.category != Category::kInfo) out.insert(f.code);
  return out;
}

class Proposals : public ::testing::TestWithParam<RecipeParam> {};

TEST_P(Proposals, ApplyingEveryProposalOfOneCheckLeavesNoNewProblem) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = GetParam().make(dir);
  ASSERT_FALSE(d.path.empty());
  const Checked first = check_file(d.path);
  ASSERT_TRUE(first.ok);
  if (!first.img->walkable()) GTEST_SKIP() << "nothing can be walked, so nothing is proposed";
  const uint64_t cluster_bits = first.img->geometry().cluster_bits;

  bool complete = true;
  size_t applied = 0;
  for (const Finding& f : first.res.findings) {
    complete &= settled(f);
    if (!f.proposed) continue;
    ASSERT_TRUE(f.file_offset && f.current) << f.code << ": a proposal names its bytes and their value";
    ASSERT_TRUE(f.width == 1 || f.width == 2 || f.width == 4 || f.width == 8) << f.code;
    EXPECT_NE(f.risk, Risk::kNone) << f.code;
    EXPECT_FALSE(f.suspect) << f.code << ": a suspect finding proposes nothing";
    EXPECT_EQ(*f.proposed & ~f.mask, *f.current & ~f.mask) << f.code << ": only the mask's bits change";
    const uint64_t c = *f.file_offset >> cluster_bits;
    EXPECT_TRUE(c == 0 || in_metadata(first.res, c))
        << f.code << fmt::format(": proposal at 0x{:x} lies outside the metadata", *f.file_offset);
    // Read-modify-write, so that proposals about one byte (narrow refcounts) compose.
    const uint64_t now = peek(d.path, *f.file_offset, f.width);
    ASSERT_TRUE(poke(d.path, *f.file_offset, f.width, (now & ~f.mask) | (*f.proposed & f.mask)));
    ++applied;
  }

  RecordProperty("complete", complete ? "yes" : "no");
  RecordProperty("applied", static_cast<int>(applied));
  const Checked second = check_file(d.path);
  ASSERT_TRUE(second.ok);
  if (complete) {
    EXPECT_EQ(second.problem_codes(), std::vector<std::string>{})
        << "every problem had a proposal (" << applied << " applied), yet: " << second.describe()
        << "\nfirst check: " << first.describe();
    for (const Finding& f : second.res.findings)
      EXPECT_FALSE(f.proposed.has_value()) << "a second plan must be empty: " << f.code << " " << f.message;
    const QemuCheck q = qemu_check(d.path);
    if (q.ran) {
      EXPECT_EQ(q.exit_code, 0) << "qemu-img check after applying: " << q.err;
      EXPECT_EQ(q.corruptions, 0u);
      EXPECT_EQ(q.leaks, 0u);
    }
  } else {
    const std::set<std::string> before = problem_set(first), after = problem_set(second);
    for (const std::string& code : after)
      EXPECT_TRUE(before.count(code)) << "applying the proposals made a new problem: " << code << "\n"
                                      << second.describe() << "\nfirst check: " << first.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(AllDamage, Proposals, ::testing::ValuesIn(damage::recipe_params()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace qcow2::test
