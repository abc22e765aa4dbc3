// The undo journal's bytes. A journal holds everything needed to put an image back exactly as
// it was before a repair, or to finish the repair, whatever point a crash stopped it at:
// the image's identity (size before and after, the bytes of its first cluster, their CRC), then
// one record per edit (offset, old bytes, new bytes), then markers that say how far the repair
// got. Every part carries its own CRC-32, so a torn or corrupted journal is refused whole.
//
//   header:  "QCOW2FSJ" u32 version  u64 size_before u64 size_after  u32 n_head  head bytes
//            u32 n_contexts  n_contexts x (u64 offset u32 length u32 crc)  u32 n_records  u32 crc
//   record:  u32 "REC!" u64 offset u32 n_old u32 n_new  old[n_old] new[n_new]  u32 crc
//   marker:  u32 "MRK!" u32 kind  u32 crc        (kinds: applied, undone)
// All integers big-endian. A record replaces `old` with `new` at `offset`; the two differ in
// length only at the end of the file (bytes cut off are kept as `old`, so that an undo of an
// undo can put them back). Bytes a repair appends are not recorded: undoing it cuts the file
// back to size_before.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace qcow2 {

// The CRC-32 of `length` bytes at `offset` of the image before the repair: the clusters its
// records lie in, so that a journal is refused for an image that merely looks the same at the
// edited bytes (a copy made the same way, with other data).
struct JournalContext {
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t crc = 0;
};

// The CRC-32 (zlib's) the journal uses.
uint32_t crc_of(std::span<const uint8_t> bytes);

struct JournalRecord {
  uint64_t offset = 0;
  std::vector<uint8_t> old_bytes;  // what the image held
  std::vector<uint8_t> new_bytes;  // what the repair writes there
};

enum class JournalMarker : uint32_t {
  kApplied = 1,  // every edit was written and synced, and the guard bit was restored
  kUndone = 2,   // the image was put back as it was before
};

struct Journal {
  uint32_t version = 1;
  uint64_t size_before = 0;
  uint64_t size_after = 0;
  std::vector<uint8_t> head;  // the image's first bytes before the repair (its identity)
  std::vector<JournalContext> contexts;
  std::vector<JournalRecord> records;
  std::vector<JournalMarker> markers;  // in the order they were written

  bool applied() const;
  bool undone() const;
};

std::vector<uint8_t> encode_journal_header(const Journal& j);
std::vector<uint8_t> encode_journal_record(const JournalRecord& r);
std::vector<uint8_t> encode_journal_marker(JournalMarker m);

// Decodes a whole journal file. Refuses (kCorruption, naming the part) a bad magic or version,
// a CRC that does not match, or a record count that the file does not hold. Records are synced
// before the image is touched, so they are always whole; a marker torn by a crash while it was
// appended (the file's last bytes) is taken as not written.
Result<Journal> decode_journal(std::span<const uint8_t> bytes);

}  // namespace qcow2
