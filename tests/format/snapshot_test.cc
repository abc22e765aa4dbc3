#include "engine/format/snapshot.h"

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

constexpr uint64_t kTableOffset = 0x30000;

// One snapshot entry as a test wants to write it; the *_override fields lie about sizes.
struct Spec {
  uint64_t l1_table_offset = 0x50000;
  uint32_t l1_size = 1;
  std::string id = "1";
  std::string name = "snap";
  uint32_t date_sec = 1700000000;
  uint32_t date_nsec = 123456789;
  uint64_t vm_clock_nsec = 987654321012ULL;
  uint32_t vm_state_size = 0x1000;
  std::vector<uint8_t> extra;
  std::optional<uint32_t> extra_size_override;
  std::optional<uint16_t> id_size_override;
  std::optional<uint16_t> name_size_override;
};

// Extra data as QEMU writes it: vm_state_size_large, disk_size, optionally icount, then `tail`.
std::vector<uint8_t> extra(uint64_t vm_state_large, uint64_t disk_size,
                           std::optional<uint64_t> icount = std::nullopt,
                           std::vector<uint8_t> tail = {}) {
  std::vector<uint8_t> e(icount ? 24 : 16);
  store_be64(&e[0], vm_state_large);
  store_be64(&e[8], disk_size);
  if (icount) store_be64(&e[16], *icount);
  e.insert(e.end(), tail.begin(), tail.end());
  return e;
}

std::vector<uint8_t> encode(const Spec& s) {
  std::vector<uint8_t> b(kSnapshotFixedBytes);
  store_be64(&b[0], s.l1_table_offset);
  store_be32(&b[8], s.l1_size);
  store_be16(&b[12], s.id_size_override.value_or(static_cast<uint16_t>(s.id.size())));
  store_be16(&b[14], s.name_size_override.value_or(static_cast<uint16_t>(s.name.size())));
  store_be32(&b[16], s.date_sec);
  store_be32(&b[20], s.date_nsec);
  store_be64(&b[24], s.vm_clock_nsec);
  store_be32(&b[32], s.vm_state_size);
  store_be32(&b[36], s.extra_size_override.value_or(static_cast<uint32_t>(s.extra.size())));
  b.insert(b.end(), s.extra.begin(), s.extra.end());
  b.insert(b.end(), s.id.begin(), s.id.end());
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

Spec v3_spec(std::string id, std::string name) {
  Spec s;
  s.id = std::move(id);
  s.name = std::move(name);
  s.extra = extra(0, 1ULL << 30, 0);
  return s;
}

TEST(SnapshotTable, OneEntryDecodesEveryField) {
  Spec s = v3_spec("1", "first");
  s.extra = extra(0x123456789ULL, 64ULL << 20, 42);
  const auto bytes = encode(s);
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  ASSERT_EQ(t.snapshots.size(), 1u);
  const Snapshot& p = t.snapshots[0];
  EXPECT_EQ(p.index, 0u);
  EXPECT_EQ(p.entry_offset, kTableOffset);
  EXPECT_EQ(p.entry_bytes, 72u);  // 40 + 24 + 1 + 5 = 70, padded to 72
  EXPECT_EQ(t.table_bytes, 72u);
  EXPECT_EQ(p.l1_table_offset, 0x50000u);
  EXPECT_EQ(p.l1_size, 1u);
  EXPECT_EQ(p.id_size, 1u);
  EXPECT_EQ(p.name_size, 5u);
  EXPECT_EQ(p.date_sec, 1700000000u);
  EXPECT_EQ(p.date_nsec, 123456789u);
  EXPECT_EQ(p.vm_clock_nsec, 987654321012ULL);
  EXPECT_EQ(p.vm_state_size, 0x1000u);
  EXPECT_EQ(p.extra_data_size, 24u);
  EXPECT_EQ(p.extra_data, s.extra);
  EXPECT_EQ(p.vm_state_size_large, 0x123456789ULL);
  EXPECT_EQ(p.disk_size, 64ULL << 20);
  EXPECT_EQ(p.icount, 42u);
  EXPECT_EQ(p.vm_state_bytes(), 0x123456789ULL);
  EXPECT_EQ(p.id, "1");
  EXPECT_EQ(p.name, "first");
}

TEST(SnapshotTable, SeveralEntriesFollowEachOther) {
  const std::vector<Spec> specs = {v3_spec("1", "a"), v3_spec("2", "a longer name"),
                                   v3_spec("10", std::string(100, 'x'))};
  const auto bytes = encode_all(specs);
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 3, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  ASSERT_EQ(t.snapshots.size(), 3u);
  uint64_t expect_offset = kTableOffset;
  for (uint32_t i = 0; i < 3; ++i) {
    const Snapshot& p = t.snapshots[i];
    EXPECT_EQ(p.index, i);
    EXPECT_EQ(p.entry_offset, expect_offset);
    EXPECT_EQ(p.entry_bytes, encode(specs[i]).size());
    EXPECT_EQ(p.entry_bytes % 8, 0u);
    EXPECT_EQ(p.id, specs[i].id);
    EXPECT_EQ(p.name, specs[i].name);
    expect_offset += p.entry_bytes;
  }
  EXPECT_EQ(t.table_bytes, bytes.size());
}

TEST(SnapshotTable, NoEntriesIsAnEmptyGoodTable) {
  const SnapshotTable t = parse_snapshot_table({}, kTableOffset, 0, 3);
  EXPECT_TRUE(t.ok());
  EXPECT_TRUE(t.snapshots.empty());
  EXPECT_EQ(t.table_bytes, 0u);
}

TEST(SnapshotTable, Version2EntryWithoutExtraData) {
  Spec s;
  s.vm_state_size = 777;
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 2);
  ASSERT_TRUE(t.ok()) << t.error;
  const Snapshot& p = t.snapshots.at(0);
  EXPECT_EQ(p.extra_data_size, 0u);
  EXPECT_TRUE(p.extra_data.empty());
  EXPECT_FALSE(p.vm_state_size_large.has_value());
  EXPECT_FALSE(p.disk_size.has_value());
  EXPECT_FALSE(p.icount.has_value());
  EXPECT_EQ(p.vm_state_bytes(), 777u);
}

TEST(SnapshotTable, SixteenBytesOfExtraHaveNoIcount) {
  Spec s = v3_spec("1", "s");
  s.extra = extra(5, 10ULL << 30);
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  const Snapshot& p = t.snapshots.at(0);
  EXPECT_EQ(p.vm_state_size_large, 5u);
  EXPECT_EQ(p.disk_size, 10ULL << 30);
  EXPECT_FALSE(p.icount.has_value());
  EXPECT_EQ(p.extra_data, s.extra);
}

TEST(SnapshotTable, UnknownExtraBytesAreKeptExactly) {
  Spec s = v3_spec("7", "future");
  std::vector<uint8_t> tail(16);
  for (size_t i = 0; i < tail.size(); ++i) tail[i] = static_cast<uint8_t>(0xa0 + i);
  s.extra = extra(1, 2, UINT64_MAX, tail);
  ASSERT_EQ(s.extra.size(), 40u);
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  const Snapshot& p = t.snapshots.at(0);
  EXPECT_EQ(p.extra_data_size, 40u);
  EXPECT_EQ(p.extra_data, s.extra);
  EXPECT_EQ(p.icount, UINT64_MAX);
  EXPECT_EQ(p.id, "7");
  EXPECT_EQ(p.name, "future");
}

TEST(SnapshotTable, PartlyCoveredExtraFieldIsAbsent) {
  Spec s;
  s.extra = {0, 0, 0, 0, 0, 0, 0, 9, 0xff, 0xfe, 0xfd};  // 8 + 3 stray bytes
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 2);
  ASSERT_TRUE(t.ok()) << t.error;
  const Snapshot& p = t.snapshots.at(0);
  EXPECT_EQ(p.vm_state_size_large, 9u);
  EXPECT_FALSE(p.disk_size.has_value());
  EXPECT_EQ(p.extra_data, s.extra);
}

TEST(SnapshotTable, EmptyIdIsAllowed) {
  Spec s = v3_spec("", "no id");
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  EXPECT_EQ(t.snapshots.at(0).id, "");
  EXPECT_EQ(t.snapshots.at(0).name, "no id");
}

TEST(SnapshotTable, LastEntryMayEndUnpadded) {
  Spec s = v3_spec("1", "abc");  // 40 + 24 + 1 + 3 = 68 bytes, padded to 72
  auto bytes = encode(s);
  bytes.resize(68);
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  EXPECT_EQ(t.snapshots.at(0).entry_bytes, 72u);
  EXPECT_EQ(t.snapshots.at(0).name, "abc");
}

TEST(SnapshotTable, Version3NeedsSixteenBytesOfExtra) {
  Spec s = v3_spec("1", "s");
  s.extra.resize(8);
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.bad_index, 0u);
  EXPECT_TRUE(Contains(t.error, "snapshot 0: extra_data_size is 8"));
  EXPECT_TRUE(t.snapshots.empty());
  // The same entry is fine in a version 2 image.
  EXPECT_TRUE(parse_snapshot_table(encode(s), kTableOffset, 1, 2).ok());
}

TEST(SnapshotTable, ExtraDataOverTheLimit) {
  for (uint32_t size : {1025u, 0xffffffffu}) {
    Spec s = v3_spec("1", "s");
    s.extra_size_override = size;
    const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.bad_index, 0u);
    EXPECT_TRUE(Contains(t.error, "snapshot 0: extra_data_size is " + std::to_string(size)));
  }
}

TEST(SnapshotTable, ExtraDataAtTheLimit) {
  Spec s = v3_spec("1", "s");
  s.extra = extra(0, 0, 0, std::vector<uint8_t>(kSnapshotMaxExtraData - 24, 0x5a));
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  EXPECT_EQ(t.snapshots.at(0).extra_data.size(), kSnapshotMaxExtraData);
}

TEST(SnapshotTable, L1SizeLimit) {
  Spec s = v3_spec("1", "s");
  s.l1_size = 4194304;
  EXPECT_TRUE(parse_snapshot_table(encode(s), kTableOffset, 1, 3).ok());
  s.l1_size = 4194305;
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.error, "snapshot 0: l1_size is 4194305"));
}

TEST(SnapshotTable, SecondEntryRunsPastTheEnd) {
  auto bytes = encode_all({v3_spec("1", "a"), v3_spec("2", "b")});
  bytes.resize(bytes.size() - 10);
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 2, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.bad_index, 1u);
  ASSERT_EQ(t.snapshots.size(), 1u);
  EXPECT_EQ(t.table_bytes, 72u);
  EXPECT_EQ(t.error,
            "snapshot 1: entry at 0x30048 needs 66 bytes but the table area ends at 0x30086");
}

TEST(SnapshotTable, AbsurdNameLength) {
  Spec s = v3_spec("1", "short");
  s.name_size_override = 0xffff;
  auto bytes = encode(s);
  bytes.resize(4096);
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 1, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.bad_index, 0u);
  EXPECT_TRUE(Contains(t.error, "needs 65600 bytes"));
}

TEST(SnapshotTable, AbsurdIdLength) {
  Spec s = v3_spec("1", "short");
  s.id_size_override = 0xffff;
  const SnapshotTable t = parse_snapshot_table(encode(s), kTableOffset, 1, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.error, "snapshot 0: entry at 0x30000 needs"));
}

TEST(SnapshotTable, CountLargerThanTheTable) {
  const auto bytes = encode_all({v3_spec("1", "a"), v3_spec("2", "b")});
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 5, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.bad_index, 2u);
  EXPECT_EQ(t.snapshots.size(), 2u);
  EXPECT_TRUE(Contains(t.error, "snapshot 2: entry at 0x30090 needs 40 bytes"));
}

TEST(SnapshotTable, HugeCountOnEmptyInput) {
  const SnapshotTable t = parse_snapshot_table({}, kTableOffset, UINT32_MAX, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.bad_index, 0u);
  EXPECT_TRUE(t.snapshots.empty());
  EXPECT_EQ(t.snapshots.capacity(), 0u);
}

TEST(SnapshotTable, ExtraBytesAfterTheLastEntryAreIgnored) {
  auto bytes = encode(v3_spec("1", "a"));
  bytes.resize(bytes.size() + 1000, 0xee);
  const SnapshotTable t = parse_snapshot_table(bytes, kTableOffset, 1, 3);
  ASSERT_TRUE(t.ok()) << t.error;
  EXPECT_EQ(t.table_bytes, 72u);
}

TEST(SnapshotTable, EveryTruncationFailsCleanly) {
  const Spec s = v3_spec("12", "truncated");
  const auto full = encode(s);
  const size_t content = 40 + 24 + 2 + 9;
  for (size_t len = 0; len <= full.size(); ++len) {
    SCOPED_TRACE(len);
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<long>(len));
    const SnapshotTable t = parse_snapshot_table(prefix, kTableOffset, 1, 3);
    if (len >= content) {
      ASSERT_TRUE(t.ok()) << t.error;
      EXPECT_EQ(t.snapshots.at(0).name, "truncated");
      continue;
    }
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.bad_index, 0u);
    EXPECT_TRUE(t.snapshots.empty());
    EXPECT_EQ(t.table_bytes, 0u);
    EXPECT_TRUE(Contains(t.error, "snapshot 0: entry at 0x30000 needs"));
    EXPECT_TRUE(Contains(t.error, len < 40 ? "needs 40 bytes" : "needs 75 bytes"));
    EXPECT_EQ(t.error.find('\n'), std::string::npos);
  }
}

TEST(SnapshotTable, EveryTruncationOfTheSecondEntry) {
  const auto full = encode_all({v3_spec("1", "a"), v3_spec("2", "b")});
  for (size_t len = 72; len < full.size(); ++len) {
    SCOPED_TRACE(len);
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<long>(len));
    const SnapshotTable t = parse_snapshot_table(prefix, kTableOffset, 2, 3);
    if (len >= 72 + 66) {
      EXPECT_TRUE(t.ok()) << t.error;
      continue;
    }
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.bad_index, 1u);
    EXPECT_EQ(t.snapshots.size(), 1u);
  }
}

TEST(SnapshotTable, TableOverSixtyFourMiB) {
  // Largest legal entries: 40 + 16 + 65535 + 65535 bytes, padded. The 512th passes 64 MiB.
  Spec s;
  s.extra = extra(0, 0);
  s.id = std::string(0xffff, 'i');
  s.name = std::string(0xffff, 'n');
  const auto one = encode(s);
  const uint64_t per = one.size();
  const uint32_t count = static_cast<uint32_t>(kSnapshotTableMaxBytes / per) + 1;
  std::vector<uint8_t> bytes;
  bytes.reserve(per * count);
  for (uint32_t i = 0; i < count; ++i) bytes.insert(bytes.end(), one.begin(), one.end());
  const SnapshotTable t = parse_snapshot_table(bytes, 0, count, 3);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.bad_index, count - 1);
  EXPECT_EQ(t.snapshots.size(), count - 1);
  EXPECT_TRUE(Contains(t.error, "over QEMU's limit of 67108864"));
}

}  // namespace
}  // namespace qcow2
