// A finding: one inconsistency, with a stable code, where it is, what it means and the fix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qcow2 {

// Which image status a finding implies (the well-known tool's exit codes).
enum class Category : uint8_t {
  kInfo,       // worth saying, changes nothing (dirty bit with correct refcounts, in-use bitmap)
  kLeak,       // 1: a refcount higher than the references
  kCopied,     // 2: a COPIED flag that disagrees with the refcount
  kFlag,       // 3: the corrupt bit is set
  kRefcount,   // 4: a refcount lower than the references, or no refcount block for them
  kSnapshot,   // 5: the snapshot table is damaged
  kCorrupt,    // 6: structural damage (bad pointers, reserved bits, overlaps, bad payloads)
};

enum class FindingSeverity : uint8_t { kInfo, kWarning, kError };

// What acting on a finding's proposed value can cost (the repair plan gates on it).
enum class Risk : uint8_t {
  kNone,         // nothing is proposed
  kSafe,         // cannot lose data: a leak nothing could have owned, a flag, a count raised
  kRisky,        // proven from the layout, but changes what the guest reads or rebuilds a table
  kDestructive,  // may lose data: frees a cluster that may hold what a damaged entry lost
};

const char* risk_name(Risk r);  // none, safe, risky, destructive

// Findings of one code kept in full; the rest are counted and summed up in one more finding,
// so that a table of a million bad entries costs a summary, not a million messages.
inline constexpr size_t kMaxFindingsPerCode = 10000;

struct Finding {
  std::string code;  // stable, e.g. "l2-unaligned"; listed in man/qcow2-dump.1
  Category category = Category::kCorrupt;
  FindingSeverity severity = FindingSeverity::kError;
  std::string table;                     // "active L1", "L2 table 0x50000", "refcount block 3", …
  std::optional<uint64_t> table_offset;  // file offset of that table, when it is one
  std::optional<uint64_t> index;         // entry index inside `table`
  // The bytes concerned: `width` bytes at file_offset (1, 2, 4 or 8 for a field or entry, the
  // cluster size for a whole cluster). For a field, `mask` selects its bits of the big-endian
  // value (a 4-bit refcount, one flag), `current` is the value held now and `proposed`, when a
  // value is proven, the new one: only the mask's bits change, so the proposals of several
  // findings about one byte can be applied one after another.
  std::optional<uint64_t> file_offset;
  uint32_t width = 0;
  uint64_t mask = ~0ULL;
  std::optional<uint64_t> current;
  std::optional<uint64_t> proposed;
  Risk risk = Risk::kNone;
  // Set when another finding's proposal fixes this one too: the file offset of that field.
  std::optional<uint64_t> resolved_by;
  std::optional<uint64_t> guest_offset;  // the guest byte address the entry maps
  std::optional<uint64_t> cluster;       // host cluster index, for refcount findings
  // Who points at the cluster concerned ("active L2 table 0x40000 entry 3 (guest 0x30000)"),
  // and how many more did not fit: never a silent cap.
  std::vector<std::string> referrers;
  uint64_t referrers_left_out = 0;
  // Derived from a table that is itself suspect (cross-linked, or mostly not table entries):
  // reported for the truth of it, with no proposal.
  bool suspect = false;
  std::string message;  // plain explanation, one line, printable ASCII
  std::string fix;      // the suggested fix, one line, printable ASCII (IMAGE stands for the path)

  // Sets the field the finding is about: `bytes` (1 to 8) at `offset`, holding `value`; `bits`
  // selects part of it (0: all of it).
  void at_field(uint64_t offset, uint32_t bytes, uint64_t value, uint64_t bits = 0) {
    file_offset = offset;
    width = bytes;
    mask = bits ? bits : bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
    current = value;
  }
  // Proposes `value` for the field (only its mask's bits matter).
  void propose(uint64_t value, Risk r) {
    proposed = (current.value_or(0) & ~mask) | (value & mask);
    risk = r;
  }
  void withdraw_proposal() {
    proposed.reset();
    risk = Risk::kNone;
  }
};

// Image states in the order the well-known tool ranks them (first that holds wins).
enum class ImageStatus : uint8_t {
  kGood = 0,
  kLeak = 1,
  kCopied = 2,
  kCorruptFlag = 3,
  kRefcountError = 4,
  kSnapshotDamaged = 5,
  kCorrupt = 6,
};

const char* status_word(ImageStatus s);  // good, leaks, copied, corrupt-flag, …
inline int exit_code(ImageStatus s) { return static_cast<int>(s); }

ImageStatus status_of(const std::vector<Finding>& findings);

}  // namespace qcow2

namespace qcow2 {

inline Finding make_finding(const char* code, Category category, std::string table,
                            std::string message, std::string fix) {
  Finding f;
  f.code = code;
  f.category = category;
  f.severity = category == Category::kInfo ? FindingSeverity::kInfo
               : category == Category::kLeak || category == Category::kFlag
                   ? FindingSeverity::kWarning
                   : FindingSeverity::kError;
  f.table = std::move(table);
  f.message = std::move(message);
  f.fix = std::move(fix);
  return f;
}

}  // namespace qcow2
