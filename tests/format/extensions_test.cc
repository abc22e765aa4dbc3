#include "engine/format/extensions.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

// Line checks without gmock: the test binaries link gtest only.
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

constexpr uint32_t kClusterBits = 12;
constexpr uint32_t kClusterSize = 1U << kClusterBits;
constexpr uint32_t kHeaderLength = 112;

Header v3_header() {
  Header h;
  h.magic = kQcow2Magic;
  h.version = 3;
  h.cluster_bits = kClusterBits;
  h.header_length = kHeaderLength;
  return h;
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// Writes cluster 0's extension area record by record, as QEMU lays it out.
class Area {
 public:
  explicit Area(uint64_t start = kHeaderLength, size_t size = kClusterSize)
      : buf_(size), pos_(start) {}

  // Returns the file offset the record was written at.
  uint64_t add(uint32_t type, const std::vector<uint8_t>& data) {
    return add_raw(type, static_cast<uint32_t>(data.size()), data);
  }
  uint64_t add_raw(uint32_t type, uint32_t length, const std::vector<uint8_t>& data) {
    const uint64_t at = pos_;
    store_be32(&buf_[pos_], type);
    store_be32(&buf_[pos_ + 4], length);
    std::copy(data.begin(), data.end(), buf_.begin() + static_cast<long>(pos_ + 8));
    pos_ += 8 + align_up(data.size(), 8);
    return at;
  }
  uint64_t end() { return add(kExtEnd, {}); }
  // Places a backing file name at the current position; returns its offset.
  uint64_t put_string(const std::string& s) {
    const uint64_t at = pos_;
    std::copy(s.begin(), s.end(), buf_.begin() + static_cast<long>(pos_));
    pos_ += s.size();
    return at;
  }
  uint64_t pos() const { return pos_; }
  std::vector<uint8_t>& bytes() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
  uint64_t pos_;
};

std::vector<uint8_t> feature_entry(uint8_t type, uint8_t bit, const std::string& name) {
  std::vector<uint8_t> e(48);
  e[0] = type;
  e[1] = bit;
  std::copy(name.begin(), name.end(), e.begin() + 2);
  return e;
}

std::vector<uint8_t> concat(std::vector<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<uint8_t> bitmaps_ext(uint32_t nb, uint32_t reserved, uint64_t size, uint64_t offset) {
  std::vector<uint8_t> d(24);
  store_be32(&d[0], nb);
  store_be32(&d[4], reserved);
  store_be64(&d[8], size);
  store_be64(&d[16], offset);
  return d;
}

TEST(Extensions, OnlyTheEndMarker) {
  Area a;
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {}));
  ASSERT_EQ(e.all.size(), 1u);
  EXPECT_EQ(e.all[0].type, kExtEnd);
  EXPECT_EQ(e.all[0].offset, kHeaderLength);
  EXPECT_FALSE(e.backing_format || e.bitmaps || e.crypto || e.data_file || e.backing_file);
}

TEST(Extensions, QemuLikeAreaDecodes) {
  Header h = v3_header();
  h.autoclear_features = kAutoclearBitmaps;
  Area a;
  const uint64_t fmt_at = a.add(kExtBackingFormat, bytes_of("qcow2"));
  const uint64_t feat_at = a.add(kExtFeatureNames, concat({feature_entry(0, 0, "dirty bit"),
                                                           feature_entry(1, 0, "lazy refcounts"),
                                                           feature_entry(2, 0, "bitmaps")}));
  const uint64_t bm_at = a.add(kExtBitmaps, bitmaps_ext(2, 0, 0x40, 0x50000));
  a.end();
  h.backing_file_offset = a.put_string("base.qcow2");
  h.backing_file_size = 10;

  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {}));
  ASSERT_EQ(e.all.size(), 4u);
  EXPECT_EQ(e.all[0].offset, fmt_at);
  EXPECT_EQ(e.all[0].length, 5u);
  EXPECT_EQ(e.all[1].offset, feat_at);
  EXPECT_EQ(e.all[1].type, kExtFeatureNames);
  EXPECT_EQ(e.all[2].offset, bm_at);
  EXPECT_EQ(e.all[3].type, kExtEnd);
  EXPECT_EQ(e.backing_format, "qcow2");
  ASSERT_EQ(e.feature_names.size(), 3u);
  EXPECT_EQ(e.feature_names[1].type, 1u);
  EXPECT_EQ(e.feature_names[1].bit, 0u);
  EXPECT_EQ(e.feature_names[1].name, "lazy refcounts");
  ASSERT_TRUE(e.bitmaps);
  EXPECT_EQ(e.bitmaps->nb_bitmaps, 2u);
  EXPECT_EQ(e.bitmaps->directory_size, 0x40u);
  EXPECT_EQ(e.bitmaps->directory_offset, 0x50000u);
  EXPECT_EQ(e.backing_file, "base.qcow2");
}

TEST(Extensions, Version2AreaStartsAt72) {
  Header h = v3_header();
  h.version = 2;
  h.header_length = kV2HeaderLength;
  Area a(kV2HeaderLength);
  a.add(kExtBackingFormat, bytes_of("raw"));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {}));
  ASSERT_EQ(e.all.size(), 2u);
  EXPECT_EQ(e.all[0].offset, 72u);
  EXPECT_EQ(e.backing_format, "raw");
}

TEST(Extensions, FortySixCharacterFeatureNameHasNoNul) {
  const std::string name46(46, 'F');
  Area a;
  a.add(kExtFeatureNames, concat({feature_entry(0, 7, name46), feature_entry(2, 1, "short")}));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {}));
  ASSERT_EQ(e.feature_names.size(), 2u);
  EXPECT_EQ(e.feature_names[0].name, name46);
  EXPECT_EQ(feature_name(e, 0, 7), name46);
  EXPECT_EQ(feature_name(e, 2, 1), "short");
}

TEST(Extensions, FeatureNameFallsBackToTheSpec) {
  const Extensions none;
  EXPECT_EQ(feature_name(none, 0, 0), "dirty");
  EXPECT_EQ(feature_name(none, 0, 1), "corrupt");
  EXPECT_EQ(feature_name(none, 0, 2), "external data file");
  EXPECT_EQ(feature_name(none, 0, 3), "compression type");
  EXPECT_EQ(feature_name(none, 0, 4), "extended L2");
  EXPECT_EQ(feature_name(none, 1, 0), "lazy refcounts");
  EXPECT_EQ(feature_name(none, 2, 0), "bitmaps");
  EXPECT_EQ(feature_name(none, 2, 1), "raw external data");
  EXPECT_EQ(feature_name(none, 0, 5), "unknown bit 5");
  EXPECT_EQ(feature_name(none, 1, 1), "unknown bit 1");
  EXPECT_EQ(feature_name(none, 2, 63), "unknown bit 63");

  Extensions with;
  with.feature_names = {{0, 0, "dirty bit"}, {1, 9, "future compat"}};
  EXPECT_EQ(feature_name(with, 0, 0), "dirty bit");
  EXPECT_EQ(feature_name(with, 1, 9), "future compat");
  EXPECT_EQ(feature_name(with, 0, 1), "corrupt");
}

TEST(Extensions, FeatureTableWithPartialEntry) {
  Area a;
  auto data = concat({feature_entry(0, 0, "dirty bit"), feature_entry(0, 1, "corrupt bit")});
  data.resize(data.size() - 20);
  const uint64_t at = a.add(kExtFeatureNames, data);
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(
      e.problems,
      {fmt::format("feature name table extension at 0x{:x}: length 76 is not a multiple "
                   "of 48 (28 bytes left over)",
                   at)}));
  ASSERT_EQ(e.feature_names.size(), 1u);
  EXPECT_EQ(e.feature_names[0].name, "dirty bit");
  EXPECT_EQ(e.all.size(), 2u);  // the end marker after the padded table was still found
}

TEST(Extensions, FeatureEntryWithBadTypeAndBit) {
  Area a;
  a.add(kExtFeatureNames, concat({feature_entry(3, 64, "odd")}));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {"('odd'): type 3 is not 0, 1 or 2", "bit 64 is over 63"}));
}

TEST(Extensions, BitmapsExtensionOfTheWrongLength) {
  Header h = v3_header();
  h.autoclear_features = kAutoclearBitmaps;
  Area a;
  auto data = bitmaps_ext(1, 0, 0x40, 0x50000);
  data.resize(16);
  a.add(kExtBitmaps, data);
  a.end();
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(e.bitmaps.has_value());
  EXPECT_TRUE(LinesContain(e.problems, {"bitmaps extension at 0x70: length is 16, expected 24",
                                        "autoclear bit 0 (bitmaps) is set but there is no"}));
}

TEST(Extensions, BitmapsExtensionFieldProblems) {
  Header h = v3_header();
  h.autoclear_features = kAutoclearBitmaps;
  Area a;
  a.add(kExtBitmaps, bitmaps_ext(0, 5, 0x40, 0x50000));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), h);
  ASSERT_TRUE(e.bitmaps);
  EXPECT_TRUE(LinesContain(e.problems, {"nb_bitmaps is 0", "reserved field is 0x5, must be 0"}));
}

TEST(Extensions, BitmapsWithoutTheAutoclearBitAreStale) {
  Area a;
  a.add(kExtBitmaps, bitmaps_ext(1, 0, 0x40, 0x50000));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  ASSERT_TRUE(e.bitmaps);
  EXPECT_TRUE(LinesContain(e.problems, {"autoclear bit 0 (bitmaps) is clear"}));
}

TEST(Extensions, CryptoHeaderPointer) {
  Header h = v3_header();
  h.crypt_method = 2;
  std::vector<uint8_t> data(16);
  store_be64(&data[0], 0x10000);
  store_be64(&data[8], 0x1f000);
  Area a;
  a.add(kExtCrypto, data);
  a.end();
  Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {}));
  ASSERT_TRUE(e.crypto);
  EXPECT_EQ(e.crypto->offset, 0x10000u);
  EXPECT_EQ(e.crypto->length, 0x1f000u);

  h.crypt_method = 0;
  e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {"crypt_method is 0: only LUKS (2) has one"}));

  h.crypt_method = 2;
  Area none;
  none.end();
  e = parse_extensions(none.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {"no full disk encryption header extension"}));
}

TEST(Extensions, CryptoOfTheWrongLength) {
  Header h = v3_header();
  h.crypt_method = 2;
  Area a;
  a.add(kExtCrypto, std::vector<uint8_t>(8));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(e.crypto);
  EXPECT_TRUE(LinesContain(
      e.problems, {"length is 8, expected 16", "no full disk encryption header extension"}));
}

TEST(Extensions, ExternalDataFileName) {
  Header h = v3_header();
  h.incompatible_features = kIncompatDataFile;
  Area a;
  a.add(kExtDataFile, bytes_of("disk.raw"));
  a.end();
  Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {}));
  EXPECT_EQ(e.data_file, "disk.raw");

  h.incompatible_features = 0;
  e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {"incompatible bit 2 (external data file) is clear"}));
}

TEST(Extensions, DuplicateExtensionIsAProblem) {
  Area a;
  const uint64_t first = a.add(kExtBackingFormat, bytes_of("raw"));
  const uint64_t second = a.add(kExtBackingFormat, bytes_of("qcow2"));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems,
                           {fmt::format("header extension 0xe2792aca (backing format) at 0x{:x} "
                                        "repeats the one at 0x{:x}: each type may appear once",
                                        second, first)}));
  EXPECT_EQ(e.all.size(), 3u);
  EXPECT_EQ(e.backing_format, "qcow2");  // the later one wins, as in QEMU
}

TEST(Extensions, UnknownExtensionIsKeptRaw) {
  const std::vector<uint8_t> raw = {0xde, 0xad, 0xbe, 0xef, 0x01};
  Area a;
  const uint64_t at = a.add(0x12345678, raw);
  a.add(kExtBackingFormat, bytes_of("qcow2"));
  a.end();
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {}));
  ASSERT_EQ(e.all.size(), 3u);
  EXPECT_EQ(e.all[0].type, 0x12345678u);
  EXPECT_EQ(e.all[0].offset, at);
  EXPECT_EQ(e.all[0].length, 5u);
  EXPECT_EQ(e.all[0].data, raw);
  EXPECT_STREQ(extension_name(e.all[0].type), "unknown");
  EXPECT_EQ(e.all[1].offset, at + 16);  // 8 + 5 padded to 8
  EXPECT_EQ(e.backing_format, "qcow2");
}

TEST(Extensions, LengthPastTheEndOfTheCluster) {
  Area a;
  a.add(kExtBackingFormat, bytes_of("raw"));
  const uint64_t at = a.add_raw(0x11111111, 0x100000, {1, 2, 3});
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(
      e.problems,
      {fmt::format("header extension 0x11111111 at 0x{:x}: length 1048576 runs past the "
                   "end of the first cluster at 0x1000",
                   at)}));
  ASSERT_EQ(e.all.size(), 2u);
  EXPECT_EQ(e.all[1].data.size(), kClusterSize - at - 8);  // only what the cluster holds
  EXPECT_EQ(e.backing_format, "raw");
}

TEST(Extensions, LengthOfFourGiB) {
  Area a;
  a.add_raw(0x11111111, 0xffffffff, {});
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {"length 4294967295 runs past"}));
}

TEST(Extensions, ExtensionRunningIntoTheBackingName) {
  Header h = v3_header();
  Area a;
  a.add_raw(kExtBackingFormat, 40, bytes_of("qcow2"));
  h.backing_file_offset = a.put_string("base");
  h.backing_file_size = 4;
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {"length 40 runs past the backing file name at 0x80"}));
  EXPECT_FALSE(e.backing_format);
  EXPECT_EQ(e.backing_file, "base");
}

TEST(Extensions, AreaFilledWithoutAnEndMarker) {
  Area a;
  a.add(0x22222222, std::vector<uint8_t>(kClusterSize - kHeaderLength - 8, 7));
  ASSERT_EQ(a.pos(), kClusterSize);
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {}));
  EXPECT_EQ(e.all.size(), 1u);
}

TEST(Extensions, FewerThanEightBytesBeforeTheEnd) {
  Area a;
  a.add(0x22222222, std::vector<uint8_t>(kClusterSize - kHeaderLength - 16 - 4, 7));
  ASSERT_EQ(a.pos(), kClusterSize - 8);
  // The last 8 zero bytes read as an end marker.
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {}));
  EXPECT_EQ(e.all.size(), 2u);

  // A backing name 4 bytes further leaves too little room for another record header.
  Header h = v3_header();
  h.backing_file_offset = a.put_string("    abcd") + 4;
  h.backing_file_size = 4;
  const Extensions cut = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(
      cut.problems, {"header extension at 0xff8: only 4 bytes before the backing file name at "
                     "0xffc: too few for a type and length"}));
  EXPECT_EQ(cut.backing_file, "abcd");
}

TEST(Extensions, BackingNameBeyondTheCluster) {
  Header h = v3_header();
  h.backing_file_offset = kClusterSize - 4;
  h.backing_file_size = 10;
  Area a;
  a.end();
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(e.backing_file);
  EXPECT_TRUE(
      LinesContain(e.problems, {"backing file name at 0xffc (10 bytes) runs past the end of "
                                "the first cluster at 0x1000"}));

  h.backing_file_offset = 0x10000;  // beyond the cluster altogether
  const Extensions far = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(far.backing_file);
  EXPECT_TRUE(LinesContain(far.problems, {"backing file name at 0x10000 (10 bytes) runs past"}));
}

TEST(Extensions, BackingNameSizeOddities) {
  Area a;
  a.end();
  const uint64_t at = a.put_string(std::string(1024, 'b'));
  Header h = v3_header();
  h.backing_file_offset = at;
  h.backing_file_size = 1024;
  Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(e.backing_file);
  EXPECT_TRUE(LinesContain(e.problems, {"is 1024 bytes: over QEMU's limit of 1023"}));

  h.backing_file_size = 1023;
  e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(LinesContain(e.problems, {}));
  EXPECT_EQ(e.backing_file, std::string(1023, 'b'));

  h.backing_file_size = 0;
  e = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(e.backing_file);
  EXPECT_TRUE(LinesContain(e.problems, {"backing_file_size is 0"}));

  h.backing_file_offset = 0;
  h.backing_file_size = 9;
  e = parse_extensions(a.bytes(), h);
  EXPECT_FALSE(e.backing_file);
  EXPECT_TRUE(LinesContain(e.problems, {"backing_file_offset is 0"}));
}

TEST(Extensions, BackingNameWithNul) {
  Area a;
  a.end();
  Header h = v3_header();
  h.backing_file_offset = a.put_string(std::string("ab\0cd", 5));
  h.backing_file_size = 5;
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_EQ(e.backing_file, std::string("ab\0cd", 5));
  EXPECT_TRUE(LinesContain(e.problems, {"NUL byte at position 2"}));
}

TEST(Extensions, BackingNameInsideTheHeader) {
  Header h = v3_header();
  h.backing_file_offset = 64;
  h.backing_file_size = 8;
  Area a;
  a.end();
  std::fill_n(a.bytes().begin() + 64, 8, 'h');
  const Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(e.all.empty());
  EXPECT_TRUE(
      LinesContain(e.problems, {"backing_file_offset 0x40 lies inside the 112-byte header"}));
}

TEST(Extensions, BadHeaderLength) {
  Header h = v3_header();
  h.header_length = 80;
  Area a;
  a.end();
  Extensions e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(e.all.empty());
  EXPECT_TRUE(LinesContain(e.problems, {"header_length is 80"}));

  h.header_length = kClusterSize + 8;
  e = parse_extensions(a.bytes(), h);
  EXPECT_TRUE(e.all.empty());
  EXPECT_TRUE(LinesContain(e.problems, {"header_length 4104 passes the end of the first cluster"}));
}

TEST(Extensions, ShortFileIsNamedAsSuch) {
  Area a(kHeaderLength, 200);
  a.add_raw(0x33333333, 100, {});
  const Extensions e = parse_extensions(a.bytes(), v3_header());
  EXPECT_TRUE(LinesContain(e.problems, {"runs past the end of the file at 0xc8"}));
}

TEST(Extensions, EveryTruncationOfClusterZero) {
  Header h = v3_header();
  h.autoclear_features = kAutoclearBitmaps;
  Area a;
  a.add(kExtBackingFormat, bytes_of("qcow2"));
  a.add(kExtFeatureNames, concat({feature_entry(0, 0, "dirty bit"), feature_entry(1, 0, "lazy")}));
  a.add(kExtBitmaps, bitmaps_ext(1, 0, 0x40, 0x50000));
  a.add(0x77777777, {9, 9, 9});
  a.end();
  h.backing_file_offset = a.put_string("base.img");
  h.backing_file_size = 8;
  const size_t full = a.pos();
  const Extensions whole = parse_extensions({a.bytes().data(), full}, h);
  ASSERT_TRUE(LinesContain(whole.problems, {}));
  for (size_t len = 0; len <= full; ++len) {
    SCOPED_TRACE(len);
    const std::vector<uint8_t> prefix(a.bytes().begin(),
                                      a.bytes().begin() + static_cast<long>(len));
    const Extensions e = parse_extensions(prefix, h);
    for (const auto& x : e.all) EXPECT_LE(x.data.size(), x.length);
    for (const auto& p : e.problems) EXPECT_EQ(p.find('\n'), std::string::npos) << p;
    if (len == full) {
      EXPECT_TRUE(LinesContain(e.problems, {}));
    } else {
      EXPECT_FALSE(e.problems.empty());
      EXPECT_FALSE(e.backing_file);  // the name is always the last thing cut off
    }
  }
}

TEST(Extensions, Names) {
  EXPECT_STREQ(extension_name(kExtEnd), "end");
  EXPECT_STREQ(extension_name(kExtBackingFormat), "backing format");
  EXPECT_STREQ(extension_name(kExtFeatureNames), "feature name table");
  EXPECT_STREQ(extension_name(kExtBitmaps), "bitmaps");
  EXPECT_STREQ(extension_name(kExtCrypto), "full disk encryption header");
  EXPECT_STREQ(extension_name(kExtDataFile), "external data file");
  EXPECT_STREQ(extension_name(0xdeadbeef), "unknown");
}

}  // namespace
}  // namespace qcow2
