// A qemu-io process that keeps an image open (and so holds QEMU's image locks) until the
// object is destroyed: what a running VM looks like to a tool that probes the locks.
#pragma once

#include <sys/types.h>

#include <string>

namespace qcow2::test {

class QemuHolder {
 public:
  // Starts `qemu-io [-r] -f qcow2 IMAGE` reading commands from a pipe we keep open, and waits
  // (up to 30 s) until its locks are visible in /proc/locks. ok() says whether that happened.
  explicit QemuHolder(const std::string& image, bool read_only = false);
  ~QemuHolder();  // closes the pipe (qemu-io quits), kills it after 10 s, reaps it
  QemuHolder(const QemuHolder&) = delete;
  QemuHolder& operator=(const QemuHolder&) = delete;

  bool ok() const { return locked_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int input_ = -1;  // qemu-io's stdin
  bool locked_ = false;
};

}  // namespace qcow2::test
