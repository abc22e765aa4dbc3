#include "engine/check/finding.h"

namespace qcow2 {

const char* status_word(ImageStatus s) {
  switch (s) {
    case ImageStatus::kGood: return "good";
    case ImageStatus::kLeak: return "leaks";
    case ImageStatus::kCopied: return "copied";
    case ImageStatus::kCorruptFlag: return "corrupt-flag";
    case ImageStatus::kRefcountError: return "refcount-error";
    case ImageStatus::kSnapshotDamaged: return "snapshot-damaged";
    case ImageStatus::kCorrupt: return "corrupt";
  }
  return "?";
}

const char* risk_name(Risk r) {
  switch (r) {
    case Risk::kNone: return "none";
    case Risk::kSafe: return "safe";
    case Risk::kRisky: return "risky";
    case Risk::kDestructive: return "destructive";
  }
  return "?";
}

ImageStatus status_of(const std::vector<Finding>& findings) {
  bool has[7] = {};
  for (const auto& f : findings) has[static_cast<int>(f.category)] = true;
  // The well-known tool's priority: snapshot table, structure, refcounts, COPIED, leaks, flag.
  if (has[static_cast<int>(Category::kSnapshot)]) return ImageStatus::kSnapshotDamaged;
  if (has[static_cast<int>(Category::kCorrupt)]) return ImageStatus::kCorrupt;
  if (has[static_cast<int>(Category::kRefcount)]) return ImageStatus::kRefcountError;
  if (has[static_cast<int>(Category::kCopied)]) return ImageStatus::kCopied;
  if (has[static_cast<int>(Category::kLeak)]) return ImageStatus::kLeak;
  if (has[static_cast<int>(Category::kFlag)]) return ImageStatus::kCorruptFlag;
  return ImageStatus::kGood;
}

}  // namespace qcow2
