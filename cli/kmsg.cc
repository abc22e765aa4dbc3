#include "cli/kmsg.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qcow2::cli {

void log_to_kmsg(const std::string& summary) {
  const char* env = std::getenv("QCOW2_DUMP_KMSG");
  const std::string path = env && *env ? env : "/dev/kmsg";
  // One write() is one record in /dev/kmsg: the line must not be split.
  const std::string record = fmt::format("qcow2-dump: {}\n", summary);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  const bool ok = fd >= 0 && ::write(fd, record.data(), record.size()) == static_cast<ssize_t>(record.size());
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (ok) return;
  std::fflush(stdout);
  fmt::print(stderr, "qcow2-dump: warning: cannot write the result to {}: {}\n", path, std::strerror(err));
}

}  // namespace qcow2::cli
