#include "engine/repair/journal_format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

constexpr char kMagic[8] = {'Q', 'C', 'O', 'W', '2', 'F', 'S', 'J'};
constexpr uint32_t kRecordTag = 0x52454321;  // "REC!"
constexpr uint32_t kMarkerTag = 0x4d524b21;  // "MRK!"
constexpr uint32_t kVersion = 1;
constexpr uint32_t kMaxHead = 2u << 20;       // the first cluster, at most 2 MiB
constexpr uint32_t kMaxRecordBytes = 1u << 30;

}  // namespace

uint32_t crc_of(std::span<const uint8_t> b) {
  return static_cast<uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size())));
}

namespace {

void put32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  store_be32(b, v);
  out.insert(out.end(), b, b + 4);
}
void put64(std::vector<uint8_t>& out, uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  out.insert(out.end(), b, b + 8);
}
void seal(std::vector<uint8_t>& out, size_t from) {
  put32(out, crc_of(std::span<const uint8_t>(out).subspan(from)));
}

// Reads forward through the file; every failure names where it happened.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool has(uint64_t n) const { return n <= b_.size() - at_; }
  size_t at() const { return at_; }
  size_t left() const { return b_.size() - at_; }
  uint32_t u32() {
    const uint32_t v = load_be32(&b_[at_]);
    at_ += 4;
    return v;
  }
  uint64_t u64() {
    const uint64_t v = load_be64(&b_[at_]);
    at_ += 8;
    return v;
  }
  std::vector<uint8_t> bytes(size_t n) {
    std::vector<uint8_t> v(b_.begin() + static_cast<ptrdiff_t>(at_), b_.begin() + static_cast<ptrdiff_t>(at_ + n));
    at_ += n;
    return v;
  }
  // The CRC stored here matches the bytes since `from`.
  bool sealed(size_t from) {
    if (!has(4)) return false;
    const uint32_t want = crc_of(b_.subspan(from, at_ - from));
    return u32() == want;
  }

 private:
  std::span<const uint8_t> b_;
  size_t at_ = 0;
};

}  // namespace

bool Journal::applied() const { return std::count(markers.begin(), markers.end(), JournalMarker::kApplied) > 0; }
bool Journal::undone() const { return !markers.empty() && markers.back() == JournalMarker::kUndone; }

std::vector<uint8_t> encode_journal_header(const Journal& j) {
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  put32(out, kVersion);
  put64(out, j.size_before);
  put64(out, j.size_after);
  put32(out, static_cast<uint32_t>(j.head.size()));
  out.insert(out.end(), j.head.begin(), j.head.end());
  put32(out, static_cast<uint32_t>(j.contexts.size()));
  for (const JournalContext& c : j.contexts) {
    put64(out, c.offset);
    put32(out, c.length);
    put32(out, c.crc);
  }
  put32(out, static_cast<uint32_t>(j.records.size()));
  seal(out, 0);
  return out;
}

std::vector<uint8_t> encode_journal_record(const JournalRecord& r) {
  std::vector<uint8_t> out;
  put32(out, kRecordTag);
  put64(out, r.offset);
  put32(out, static_cast<uint32_t>(r.old_bytes.size()));
  put32(out, static_cast<uint32_t>(r.new_bytes.size()));
  out.insert(out.end(), r.old_bytes.begin(), r.old_bytes.end());
  out.insert(out.end(), r.new_bytes.begin(), r.new_bytes.end());
  seal(out, 0);
  return out;
}

std::vector<uint8_t> encode_journal_marker(JournalMarker m) {
  std::vector<uint8_t> out;
  put32(out, kMarkerTag);
  put32(out, static_cast<uint32_t>(m));
  seal(out, 0);
  return out;
}

Result<Journal> decode_journal(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  Journal j;
  if (!r.has(8 + 4) || !std::equal(kMagic, kMagic + 8, bytes.begin()))
    return Status::Corruption("not a qcow2fs undo journal (bad magic)");
  r.bytes(8);
  j.version = r.u32();
  if (j.version != kVersion) return Status::Corruption(fmt::format("journal version {} is not {}", j.version, kVersion));
  if (!r.has(8 + 8 + 4)) return Status::Corruption("the journal header is cut short");
  j.size_before = r.u64();
  j.size_after = r.u64();
  const uint32_t head = r.u32();
  if (head > kMaxHead || !r.has(uint64_t{head} + 4)) return Status::Corruption("the journal header is cut short");
  j.head = r.bytes(head);
  const uint32_t contexts = r.u32();
  if (!r.has(uint64_t{contexts} * 16 + 4)) return Status::Corruption("the journal header is cut short");
  for (uint32_t i = 0; i < contexts; ++i) {
    JournalContext c;
    c.offset = r.u64();
    c.length = r.u32();
    c.crc = r.u32();
    j.contexts.push_back(c);
  }
  const uint32_t n = r.u32();
  if (!r.sealed(0)) return Status::Corruption("the journal header fails its checksum");
  for (uint32_t i = 0; i < n; ++i) {
    const size_t from = r.at();
    if (!r.has(4 + 8 + 4 + 4) || r.u32() != kRecordTag)
      return Status::Corruption(fmt::format("journal record {} of {} is missing or torn", i, n));
    JournalRecord rec;
    rec.offset = r.u64();
    const uint32_t n_old = r.u32(), n_new = r.u32();
    if (n_old > kMaxRecordBytes || n_new > kMaxRecordBytes || !r.has(uint64_t{n_old} + n_new))
      return Status::Corruption(fmt::format("journal record {} of {} is cut short", i, n));
    rec.old_bytes = r.bytes(n_old);
    rec.new_bytes = r.bytes(n_new);
    if (!r.sealed(from)) return Status::Corruption(fmt::format("journal record {} of {} fails its checksum", i, n));
    j.records.push_back(std::move(rec));
  }
  // Markers only say how far the repair got: one torn by a crash while it was appended (the
  // last thing in the file) was never written, as far as the repair is concerned.
  while (r.left() > 0) {
    const size_t from = r.at();
    const bool last = r.left() <= 12;
    if (!r.has(12)) break;
    const uint32_t tag = r.u32();
    const uint32_t kind = r.u32();
    const bool good = tag == kMarkerTag && r.sealed(from) && (kind == 1 || kind == 2);
    if (!good && last) break;
    if (!good) return Status::Corruption("a journal marker fails its checksum");
    j.markers.push_back(static_cast<JournalMarker>(kind));
  }
  return j;
}

}  // namespace qcow2
