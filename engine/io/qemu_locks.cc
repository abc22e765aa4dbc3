#include "engine/io/qemu_locks.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

namespace qcow2 {
namespace {

// True when some other open file description holds a lock that a write lock on `byte` would
// conflict with.
Result<bool> byte_locked(int fd, unsigned byte) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) {
    if (errno == EINVAL || errno == ENOLCK || errno == EOPNOTSUPP) return false;
    return Status::IOError(fmt::format("cannot probe QEMU's lock on byte {}: {}", byte, std::strerror(errno)));
  }
  return fl.l_type != F_UNLCK;
}

std::string comm_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

// Whether /proc/PID/fdinfo/FD lists an OFD lock that covers `byte`.
bool fdinfo_locks(const std::string& path, unsigned byte) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("lock:", 0) != 0 || line.find("OFDLCK") == std::string::npos) continue;
    // "lock:	1: OFDLCK ADVISORY  READ -1 fe:00:10952730 100 101"
    const size_t last = line.find_last_of(' ');
    const size_t prev = line.find_last_of(' ', last - 1);
    if (last == std::string::npos || prev == std::string::npos) continue;
    const std::string end = line.substr(last + 1);
    const unsigned long lo = std::strtoul(line.c_str() + prev + 1, nullptr, 10);
    const unsigned long hi = end == "EOF" ? ~0UL : std::strtoul(end.c_str(), nullptr, 10);
    if (lo <= byte && byte <= hi) return true;
  }
  return false;
}

// The processes with the image open that hold a lock on `byte`: OFD locks report no owner to
// F_OFD_GETLK, but each holder's /proc/PID/fdinfo lists its locks. Bounded by the processes
// and their descriptors; a /proc we may not read just leaves the holder unnamed.
std::string holders_of(const struct stat& image, unsigned byte) {
  std::set<std::string> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return {};
  const std::string self = std::to_string(::getpid());
  while (dirent* p = ::readdir(proc)) {
    const std::string pid = p->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid == self) continue;
    const std::string fd_dir = "/proc/" + pid + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      struct stat st {};
      if (::stat((fd_dir + "/" + f->d_name).c_str(), &st) != 0) continue;
      if (st.st_dev != image.st_dev || st.st_ino != image.st_ino) continue;
      if (fdinfo_locks("/proc/" + pid + "/fdinfo/" + f->d_name, byte)) {
        out.insert(fmt::format("pid {} ({})", pid, comm_of(pid)));
        break;
      }
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  std::string s;
  for (const std::string& h : out) s += (s.empty() ? "" : ", ") + h;
  return s;
}

}  // namespace

std::string QemuLockState::describe() const {
  const std::string who = holders.empty() ? std::string("a process") : holders;
  if (writer)
    return fmt::format("in use by a running VM ({} holds QEMU's write lock, byte {})", who,
                       kQemuLockPermBase + kQemuPermWrite);
  if (write_unshared)
    return fmt::format("held by {} that does not share writing (QEMU's lock byte {})", who,
                       kQemuLockSharedBase + kQemuPermWrite);
  return "not locked by QEMU";
}

Result<QemuLockState> probe_qemu_locks(const ImageFile& file) {
  QemuLockState s;
  QCOW2_ASSIGN_OR_RETURN(s.writer, byte_locked(file.fd(), kQemuLockPermBase + kQemuPermWrite));
  QCOW2_ASSIGN_OR_RETURN(s.write_unshared, byte_locked(file.fd(), kQemuLockSharedBase + kQemuPermWrite));
  if (s.writer || s.write_unshared) {
    struct stat st {};
    if (::fstat(file.fd(), &st) == 0)
      s.holders = holders_of(st, s.writer ? kQemuLockPermBase + kQemuPermWrite : kQemuLockSharedBase + kQemuPermWrite);
  }
  return s;
}

}  // namespace qcow2
