#include "engine/format/bitmap.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

// Substring checks without gmock: the test binaries link gtest only.
testing::AssertionResult Contains(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "\"" << s << "\" does not contain \"" << part << "\"";
}

// As many lines as parts, line i containing part i.
testing::AssertionResult LinesContain(const std::vector<std::string>& lines,
                                      const std::vector<std::string>& parts) {
  bool ok = lines.size() == parts.size();
  for (size_t i = 0; ok && i < lines.size(); ++i) ok = lines[i].find(parts[i]) != std::string::npos;
  if (ok) return testing::AssertionSuccess();
  auto failure = testing::AssertionFailure() << "got " << lines.size() << " lines:";
  for (const auto& l : lines) failure << "\n  " << l;
  failure << "\nwanted " << parts.size() << " containing:";
  for (const auto& p : parts) failure << "\n  " << p;
  return failure;
}

constexpr uint64_t kDirOffset = 0x40000;

// One directory entry as a test wants to write it; the *_override fields lie about sizes.
struct Spec {
  uint64_t table_offset = 0x60000;
  uint32_t table_size = 1;
  uint32_t flags = kBitmapAuto;
  uint8_t type = 1;
  uint8_t granularity_bits = 16;
  std::string name = "bitmap0";
  std::vector<uint8_t> extra;
  std::optional<uint16_t> name_size_override;
  std::optional<uint32_t> extra_size_override;
};

std::vector<uint8_t> encode(const Spec& s) {
  std::vector<uint8_t> b(24);
  store_be64(&b[0], s.table_offset);
  store_be32(&b[8], s.table_size);
  store_be32(&b[12], s.flags);
  b[16] = s.type;
  b[17] = s.granularity_bits;
  store_be16(&b[18], s.name_size_override.value_or(static_cast<uint16_t>(s.name.size())));
  store_be32(&b[20], s.extra_size_override.value_or(static_cast<uint32_t>(s.extra.size())));
  b.insert(b.end(), s.extra.begin(), s.extra.end());
  b.insert(b.end(), s.name.begin(), s.name.end());
  b.resize(align_up(b.size(), 8));
  return b;
}

std::vector<uint8_t> encode_all(const std::vector<Spec>& specs) {
  std::vector<uint8_t> out;
  for (const auto& s : specs) {
    auto e = encode(s);
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

Spec named(std::string name) {
  Spec s;
  s.name = std::move(name);
  return s;
}

TEST(BitmapDirectory, OneEntryDecodesEveryField) {
  Spec s;
  s.table_offset = 0x123400000ULL;
  s.table_size = 17;
  s.flags = kBitmapInUse | kBitmapAuto;
  s.granularity_bits = 20;
  s.name = "backup-1";
  const auto bytes = encode(s);
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 1);
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_TRUE(LinesContain(d.problems, {}));
  ASSERT_EQ(d.bitmaps.size(), 1u);
  const BitmapEntry& e = d.bitmaps[0];
  EXPECT_EQ(e.entry_offset, kDirOffset);
  EXPECT_EQ(e.entry_bytes, 32u);
  EXPECT_EQ(e.table_offset, 0x123400000ULL);
  EXPECT_EQ(e.table_size, 17u);
  EXPECT_EQ(e.flags, kBitmapInUse | kBitmapAuto);
  EXPECT_EQ(e.type, 1u);
  EXPECT_EQ(e.granularity_bits, 20u);
  EXPECT_EQ(e.name_size, 8u);
  EXPECT_EQ(e.extra_data_size, 0u);
  EXPECT_EQ(e.name, "backup-1");
}

TEST(BitmapDirectory, SeveralEntries) {
  const std::vector<Spec> specs = {named("a"), named("second"), named(std::string(1023, 'z'))};
  const auto bytes = encode_all(specs);
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 3);
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_TRUE(LinesContain(d.problems, {}));
  ASSERT_EQ(d.bitmaps.size(), 3u);
  uint64_t at = kDirOffset;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d.bitmaps[i].entry_offset, at);
    EXPECT_EQ(d.bitmaps[i].entry_bytes, encode(specs[i]).size());
    EXPECT_EQ(d.bitmaps[i].name, specs[i].name);
    at += d.bitmaps[i].entry_bytes;
  }
}

TEST(BitmapDirectory, ExtraDataIsSkippedAndReported) {
  Spec s = named("with-extra");
  s.extra = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const BitmapDirectory d = parse_bitmap_directory(encode(s), kDirOffset, 1);
  ASSERT_TRUE(d.ok()) << d.error;
  ASSERT_EQ(d.bitmaps.size(), 1u);
  EXPECT_EQ(d.bitmaps[0].name, "with-extra");
  EXPECT_EQ(d.bitmaps[0].extra_data_size, 9u);
  EXPECT_TRUE(LinesContain(d.problems, {"bitmap 0 'with-extra': extra_data_size is 9"}));
}

TEST(BitmapDirectory, FewerEntriesThanTheHeaderSays) {
  const auto bytes = encode_all({named("a"), named("b")});
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 3);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.bitmaps.size(), 2u);
  EXPECT_TRUE(Contains(d.error, "fewer bitmaps than nb_bitmaps: found 2, expected 3"));
}

TEST(BitmapDirectory, MoreEntriesThanTheHeaderSays) {
  const auto bytes = encode_all({named("a"), named("b"), named("c")});
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 2);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.bitmaps.size(), 2u);
  EXPECT_TRUE(Contains(d.error, "more bitmaps found than nb_bitmaps (2): entry 2 at 0x40040"));
}

TEST(BitmapDirectory, ShortLeftoverBreaksTheDirectory) {
  auto bytes = encode(named("a"));
  bytes.resize(bytes.size() + 16);
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 1);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.bitmaps.size(), 1u);
  EXPECT_TRUE(Contains(d.error, "16 bytes left at 0x40020 after 1 entries"));
}

TEST(BitmapDirectory, AbsurdNameLengthRunsPastTheEnd) {
  Spec s = named("a");
  s.name_size_override = 0xffff;
  const BitmapDirectory d = parse_bitmap_directory(encode(s), kDirOffset, 1);
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(d.bitmaps.empty());
  EXPECT_EQ(d.error,
            "bitmap 0: entry at 0x40000 needs 65560 bytes (extra_data_size 0, name_size 65535) but "
            "the directory ends at 0x40020");
}

TEST(BitmapDirectory, AbsurdExtraDataSize) {
  Spec s = named("a");
  s.extra_size_override = 0xffffffff;
  const BitmapDirectory d = parse_bitmap_directory(encode(s), kDirOffset, 1);
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(Contains(d.error, "extra_data_size 4294967295"));
}

TEST(BitmapDirectory, NameSizeZero) {
  Spec s = named("");
  const BitmapDirectory d = parse_bitmap_directory(encode(s), kDirOffset, 1);
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(Contains(d.error, "bitmap 0: entry at 0x40000 has name_size 0"));
}

TEST(BitmapDirectory, NameOverQemuLimit) {
  const BitmapDirectory d =
      parse_bitmap_directory(encode(named(std::string(1024, 'n'))), kDirOffset, 1);
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(Contains(d.error, "has name_size 1024: over QEMU's limit of 1023"));
}

TEST(BitmapDirectory, ErrorStopsAtTheBadEntry) {
  Spec bad = named("b");
  bad.name_size_override = 0;
  const auto bytes = encode_all({named("a"), bad, named("c")});
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 3);
  EXPECT_FALSE(d.ok());
  ASSERT_EQ(d.bitmaps.size(), 1u);
  EXPECT_TRUE(Contains(d.error, "bitmap 1:"));
}

TEST(BitmapDirectory, ConstraintProblemsDoNotStopParsing) {
  Spec wrong_type = named("t");
  wrong_type.type = 2;
  Spec small_gran = named("g8");
  small_gran.granularity_bits = 8;
  Spec big_gran = named("g32");
  big_gran.granularity_bits = 32;
  Spec reserved = named("r");
  reserved.flags = (1U << 3) | kBitmapAuto;
  Spec bit2 = named("x");
  bit2.flags = kBitmapExtraDataCompatible;
  Spec no_table = named("z");
  no_table.table_offset = 0;
  no_table.table_size = 0;
  const auto bytes =
      encode_all({wrong_type, small_gran, big_gran, reserved, bit2, no_table, named("t")});
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, 7);
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_EQ(d.bitmaps.size(), 7u);
  EXPECT_TRUE(LinesContain(
      d.problems,
      {"bitmap 0 't': type is 2", "bitmap 1 'g8': granularity_bits is 8",
       "bitmap 2 'g32': granularity_bits is 32", "bitmap 3 'r': flags 0xa set reserved bits 0x8",
       "bitmap 4 'x': flags 0x4 set extra_data_compatible",
       "bitmap 5 'z': bitmap_table_offset is 0", "bitmap 5 'z': bitmap_table_size is 0",
       "bitmap 6 't': the name is used by an earlier bitmap"}));
}

TEST(BitmapDirectory, GranularityBoundsAreAccepted) {
  Spec lo = named("lo");
  lo.granularity_bits = 9;
  Spec hi = named("hi");
  hi.granularity_bits = 31;
  const BitmapDirectory d = parse_bitmap_directory(encode_all({lo, hi}), kDirOffset, 2);
  EXPECT_TRUE(d.ok()) << d.error;
  EXPECT_TRUE(LinesContain(d.problems, {}));
}

TEST(BitmapDirectory, MessagesStayOnOneLine) {
  Spec s = named("bad\nname'");
  s.type = 0;
  const BitmapDirectory d = parse_bitmap_directory(encode(s), kDirOffset, 1);
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_EQ(d.bitmaps.at(0).name, "bad\nname'");
  EXPECT_TRUE(LinesContain(d.problems, {"'bad\\x0aname''"}));
}

TEST(BitmapDirectory, EmptyDirectory) {
  EXPECT_TRUE(parse_bitmap_directory({}, kDirOffset, 0).ok());
  const BitmapDirectory d = parse_bitmap_directory({}, kDirOffset, 1);
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(Contains(d.error, "found 0, expected 1"));
}

TEST(BitmapDirectory, HugeCountReservesNothingAbsurd) {
  const auto bytes = encode(named("a"));
  const BitmapDirectory d = parse_bitmap_directory(bytes, kDirOffset, UINT32_MAX);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.bitmaps.size(), 1u);
  EXPECT_LE(d.bitmaps.capacity(), 2u);
}

TEST(BitmapDirectory, EveryTruncationFailsCleanly) {
  const auto full = encode(named("truncate-me"));  // 24 + 11 = 35, padded to 40
  for (size_t len = 0; len <= full.size(); ++len) {
    SCOPED_TRACE(len);
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<long>(len));
    const BitmapDirectory d = parse_bitmap_directory(prefix, kDirOffset, 1);
    EXPECT_EQ(d.error.find('\n'), std::string::npos);
    if (len == full.size()) {
      ASSERT_TRUE(d.ok()) << d.error;
      EXPECT_EQ(d.bitmaps.at(0).name, "truncate-me");
    } else if (len == 0) {
      EXPECT_TRUE(Contains(d.error, "fewer bitmaps than nb_bitmaps"));
    } else if (len < 24) {
      EXPECT_TRUE(Contains(d.error, "too few for another entry"));
    } else {
      EXPECT_TRUE(Contains(d.error, "bitmap 0: entry at 0x40000 needs 40 bytes"));
      EXPECT_TRUE(d.bitmaps.empty());
    }
  }
}

TEST(BitmapTableEntry, DecodesOffsetFlagAndReservedBits) {
  BitmapTableEntry e = decode_bitmap_table_entry(0);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_FALSE(e.all_ones);
  EXPECT_EQ(e.reserved, 0u);

  e = decode_bitmap_table_entry(1);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_TRUE(e.all_ones);
  EXPECT_EQ(e.reserved, 0u);

  e = decode_bitmap_table_entry(0x70000);
  EXPECT_EQ(e.raw, 0x70000u);
  EXPECT_EQ(e.offset, 0x70000u);
  EXPECT_FALSE(e.all_ones);

  e = decode_bitmap_table_entry(0x00fffffffffffe00ULL);
  EXPECT_EQ(e.offset, 0x00fffffffffffe00ULL);
  EXPECT_EQ(e.reserved, 0u);

  e = decode_bitmap_table_entry(UINT64_MAX);
  EXPECT_EQ(e.offset, 0x00fffffffffffe00ULL);
  EXPECT_TRUE(e.all_ones);
  EXPECT_EQ(e.reserved, kBitmapTableReservedMask);

  e = decode_bitmap_table_entry(0x0100000000010002ULL);
  EXPECT_EQ(e.offset, 0x10000u);
  EXPECT_EQ(e.reserved, 0x0100000000000002ULL);
}

}  // namespace
}  // namespace qcow2
