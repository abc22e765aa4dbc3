// QCOW2_CHECKED_INDEX (sanitizer and fuzz builds): every RefCounter method that takes a cluster
// index aborts, naming it, for an index at or past clusters(), in each layout, where without
// the check it would touch mmap'd memory ASan cannot see. Other builds compile nothing here.
#ifdef QCOW2_CHECKED_INDEX

#include <gtest/gtest.h>

#include "engine/check/ref_counter.h"

namespace qcow2 {
namespace {

constexpr const char* kMessage = "RefCounter: cluster index [0-9]+ out of range: clusters\\(\\) is 100";

// max_expected 1, 6 and 100 pick the 2-bit nibble, the state nibble and the wide layouts.
class CheckedIndex : public ::testing::TestWithParam<uint64_t> {
 protected:
  CheckedIndex() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  RefCounter counter_{100, GetParam()};
};

TEST_P(CheckedIndex, LastClusterIsFine) {
  counter_.add(99, 1);
  counter_.add_active(99, 1, true);
  counter_.mark_active(98, false);
  EXPECT_EQ(counter_.get(99), 2u);
  EXPECT_TRUE(counter_.active(99));
  EXPECT_TRUE(counter_.active_copied(99));
  EXPECT_TRUE(counter_.active_not_copied(98));
}

TEST_P(CheckedIndex, EveryIndexedMethodAbortsPastTheEnd) {
  RefCounter& c = counter_;
  EXPECT_DEATH(c.add(100, 1), kMessage);
  EXPECT_DEATH(c.get(100), kMessage);
  EXPECT_DEATH(c.add_active(100, 1, true), kMessage);
  EXPECT_DEATH(c.mark_active(100, false), kMessage);
  EXPECT_DEATH(c.active(100), kMessage);
  EXPECT_DEATH(c.active_copied(1ULL << 40), kMessage);
  EXPECT_DEATH(c.active_not_copied(~0ULL), kMessage);
}

TEST_P(CheckedIndex, FreshRunPastTheEndAborts) {
  RefCounter& c = counter_;
  EXPECT_DEATH(c.add_fresh_run(100, 1, 1, 0), kMessage);
  EXPECT_DEATH(c.add_fresh_run(90, 11, 1, 0), kMessage);
  EXPECT_DEATH(c.add_fresh_run(1, ~0ULL, 1, 0), kMessage);
  EXPECT_FALSE(c.add_fresh_run(100, 0, 1, 0));  // an empty run touches nothing
}

INSTANTIATE_TEST_SUITE_P(Layouts, CheckedIndex, ::testing::Values(1, 6, 100));

}  // namespace
}  // namespace qcow2

#endif  // QCOW2_CHECKED_INDEX
