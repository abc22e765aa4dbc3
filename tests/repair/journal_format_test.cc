// The undo journal's bytes: what is written decodes to the same journal; any flipped byte in
// the header or a record makes the whole journal refused (naming the part); a marker torn by a
// crash while it was appended counts as not written.
#include "engine/repair/journal_format.h"

#include <gtest/gtest.h>

namespace qcow2 {
namespace {

Journal sample() {
  Journal j;
  j.size_before = 327680;
  j.size_after = 393216;
  j.head = {0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3};
  j.records.push_back({0x20008, {0, 1}, {0, 0}});
  j.records.push_back({0x40010, {0, 0, 0, 0, 0, 0, 0, 0}, {0x80, 0, 0, 0, 0, 6, 0, 0}});
  return j;
}

std::vector<uint8_t> bytes_of(const Journal& j) {
  std::vector<uint8_t> out = encode_journal_header(j);
  for (const JournalRecord& r : j.records) {
    const auto b = encode_journal_record(r);
    out.insert(out.end(), b.begin(), b.end());
  }
  for (JournalMarker m : j.markers) {
    const auto b = encode_journal_marker(m);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

TEST(JournalFormat, RoundTrips) {
  Journal j = sample();
  j.markers = {JournalMarker::kApplied, JournalMarker::kUndone};
  auto back = decode_journal(bytes_of(j));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->size_before, j.size_before);
  EXPECT_EQ(back->size_after, j.size_after);
  EXPECT_EQ(back->head, j.head);
  ASSERT_EQ(back->records.size(), 2u);
  EXPECT_EQ(back->records[1].offset, 0x40010u);
  EXPECT_EQ(back->records[1].new_bytes, j.records[1].new_bytes);
  EXPECT_TRUE(back->applied());
  EXPECT_TRUE(back->undone());
}

TEST(JournalFormat, EveryFlippedByteOfTheHeaderOrARecordIsRefused) {
  const std::vector<uint8_t> good = bytes_of(sample());
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x40;
    EXPECT_FALSE(decode_journal(bad).ok()) << "byte " << i << " flipped, journal still accepted";
  }
}

TEST(JournalFormat, ACutJournalIsRefusedAndSaysWhere) {
  const std::vector<uint8_t> good = bytes_of(sample());
  auto cut = decode_journal(std::span<const uint8_t>(good).first(good.size() - 3));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("record 1 of 2"), std::string::npos) << cut.status().message();
  EXPECT_FALSE(decode_journal(std::span<const uint8_t>(good).first(10)).ok());
  EXPECT_FALSE(decode_journal(std::vector<uint8_t>{'n', 'o', 't'}).ok());
}

TEST(JournalFormat, AMarkerTornWhileAppendedCountsAsNotWritten) {
  std::vector<uint8_t> b = bytes_of(sample());
  const auto marker = encode_journal_marker(JournalMarker::kApplied);
  for (size_t keep = 0; keep < marker.size(); ++keep) {
    std::vector<uint8_t> torn = b;
    torn.insert(torn.end(), marker.begin(), marker.begin() + static_cast<ptrdiff_t>(keep));
    auto j = decode_journal(torn);
    ASSERT_TRUE(j.ok()) << keep << " bytes of the marker: " << j.status().message();
    EXPECT_FALSE(j->applied());
  }
  // A bad marker with more after it is no torn append: refused.
  std::vector<uint8_t> bad = b;
  auto m = marker;
  m[5] ^= 1;
  bad.insert(bad.end(), m.begin(), m.end());
  bad.insert(bad.end(), marker.begin(), marker.end());
  EXPECT_FALSE(decode_journal(bad).ok());
}

}  // namespace
}  // namespace qcow2
