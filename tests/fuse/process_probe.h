// What the mount tests learn about processes from /proc: a daemon's resident memory, whether
// a thread or process is blocked in the kernel (waiting for the mount), and polling with a
// deadline instead of sleeping for a fixed time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace qcow2::test {

// Under AddressSanitizer RSS means little: its allocator keeps freed memory in a quarantine.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

// VmRSS of `pid` in KiB, or 0 when it cannot be read.
inline uint64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// The state letter of /proc/<path>/stat ("R", "S", "D", ...), or "" when it cannot be read.
inline std::string proc_state(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  std::getline(in, line);
  const size_t paren = line.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos || paren + 2 >= line.size()) return "";
  return line.substr(paren + 2, 1);
}

// Whether thread `tid` of this process sleeps in the kernel (in a system call that waits).
inline bool thread_blocked(pid_t tid) {
  const std::string s = proc_state("/proc/self/task/" + std::to_string(tid) + "/stat");
  return s == "S" || s == "D";
}

inline bool process_blocked(pid_t pid) {
  const std::string s = proc_state("/proc/" + std::to_string(pid) + "/stat");
  return s == "S" || s == "D";
}

// Polls `done` every 10 ms until it is true or `timeout` has passed; returns its last value.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace qcow2::test
