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

struct Finding {
  std::string code;  // stable, e.g. "l2-unaligned"; listed in man/qcow2-dump.1
  Category category = Category::kCorrupt;
  FindingSeverity severity = FindingSeverity::kError;
  std::optional<uint64_t> file_offset;   // the bytes at fault
  std::string table;                     // "active L1", "L2 0x50000", "refcount block 3", …
  std::optional<uint64_t> index;         // entry index inside `table`
  std::optional<uint64_t> guest_offset;  // the guest byte address the entry maps
  std::optional<uint64_t> cluster;       // host cluster index, for refcount findings
  std::string message;                   // plain explanation, one line
  std::string fix;                       // the suggested fix, one line
  std::optional<uint64_t> suggested_value;  // for a damaged entry: the value it most likely held
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
