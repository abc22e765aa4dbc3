// The progress line of a check on a terminal: "checking 42%, 310.5 MiB/s, 0:07 left" on
// stderr, rewritten in place with \r and erased when the check is done, so that what follows
// starts on a clean line. Nothing at all when stderr is not a terminal or with -q: a log or a
// pipe must not fill with carriage returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace qcow2::cli {

class ProgressLine {
 public:
  // enabled: stderr is a terminal and -q was not given.
  explicit ProgressLine(bool enabled);
  ~ProgressLine() { erase(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // For CheckOptions::progress; `bytes` is what CheckOptions::table_bytes points at.
  std::function<void(unsigned)> callback(const uint64_t* bytes);
  // Overwrites the line with spaces (no escape sequences: NO_COLOR users get none from us).
  void erase();

 private:
  void show(unsigned percent, uint64_t bytes);

  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_shown_{};
  size_t width_ = 0;  // of the line on screen, 0 when none is
};

}  // namespace qcow2::cli
