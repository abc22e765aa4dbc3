#include "cli/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace qcow2::cli {

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

std::function<void(unsigned)> ProgressLine::callback(const uint64_t* bytes) {
  if (!enabled_) return {};
  return [this, bytes](unsigned percent) { show(percent, bytes ? *bytes : 0); };
}

void ProgressLine::show(unsigned percent, uint64_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  // At most ten redraws a second, but always the first: a small image is done in a blink.
  if (width_ && now - last_shown_ < std::chrono::milliseconds(100) && percent < 100) return;
  last_shown_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  std::string line = fmt::format("qcow2-dump: checking {}%", percent);
  if (secs > 0 && bytes) line += fmt::format(", {:.1f} MiB/s", bytes / secs / (1 << 20));
  if (percent > 0 && percent < 100) {
    const auto left = static_cast<uint64_t>(secs * (100 - percent) / percent + 0.5);
    line += fmt::format(", {}:{:02} left", left / 60, left % 60);
  }
  // Pad over a longer line shown before, then return to the start of the line.
  const size_t shown = line.size();
  if (shown < width_) line.append(width_ - shown, ' ');
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
  width_ = std::max(width_, shown);
}

void ProgressLine::erase() {
  if (!width_) return;
  std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
  std::fflush(stderr);
  width_ = 0;
}

}  // namespace qcow2::cli
