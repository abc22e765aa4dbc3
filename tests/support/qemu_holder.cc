#include "tests/support/qemu_holder.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace qcow2::test {
namespace {

// Whether /proc/locks lists an OFD lock on the file's inode (QEMU locks several bytes).
bool locks_visible(const std::string& image) {
  struct stat st {};
  if (::stat(image.c_str(), &st) != 0) return false;
  const std::string inode = ":" + std::to_string(st.st_ino) + " ";
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line))
    if (line.find("OFDLCK") != std::string::npos && line.find(inode) != std::string::npos) return true;
  return false;
}

}  // namespace

QemuHolder::QemuHolder(const std::string& image, bool read_only) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return;
  std::vector<std::string> args = {"qemu-io"};
  if (read_only) args.push_back("-r");
  args.insert(args.end(), {"-f", "qcow2", image});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], STDIN_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::execvp("qemu-io", argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  input_ = in[1];
  if (pid_ < 0) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (locks_visible(image)) {
      locked_ = true;
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

QemuHolder::~QemuHolder() {
  if (input_ >= 0) ::close(input_);  // end of input: qemu-io quits and drops its locks
  if (pid_ <= 0) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace qcow2::test
