// Real mounts for the FUSE tests: starts the built qcow2fs, waits (with a deadline) until the
// kernel lists the mount, and unmounts in the destructor whatever happened in the test:
// fusermount3 -u, then -uz, then wait for the daemon, then kill it after a timeout.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fixtures.h"

#ifndef QCOW2FS_BIN
#error "QCOW2FS_BIN must name the built qcow2fs (tests/CMakeLists.txt sets it)"
#endif

namespace qcow2::test {

inline std::string qcow2fs_bin() { return QCOW2FS_BIN; }

// Why mounts cannot be tested here, or "" when they can.
inline std::string fuse_unavailable() {
  if (access("/dev/fuse", F_OK) != 0) return "/dev/fuse is absent";
  if (access("/usr/bin/fusermount3", X_OK) != 0 && access("/bin/fusermount3", X_OK) != 0)
    return "fusermount3 is not installed";
  return "";
}

inline bool is_mounted(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == dir) return true;
  }
  return false;
}

// Starts `argv` with stdin from /dev/null and stdout/stderr into `log`; returns its pid.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(out);
  close(in);
  return pid;
}

// Waits up to `timeout` for `pid`; its exit status, 128+signal, or -1 if it is still running.
inline int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return 127;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class Mount {
 public:
  // qcow2fs -f IMAGE DIR [extra...]; check ok() (and error()) afterwards.
  Mount(const std::string& image, const std::string& dir, const std::vector<std::string>& extra = {})
      : dir_(dir), log_(dir + ".log") {
    mkdir(dir.c_str(), 0755);
    std::vector<std::string> argv = {qcow2fs_bin(), "-f", image, dir};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn(argv, log_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!is_mounted(dir_)) {
      const int rc = wait_for(pid_, std::chrono::milliseconds(0));
      if (rc >= 0) {
        error_ = "qcow2fs exited " + std::to_string(rc) + " before mounting: " + read_text(log_);
        pid_ = -1;
        return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        error_ = "not mounted after 10 s: " + read_text(log_);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ok_ = true;
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount() { unmount(); }

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
  std::string read(const std::string& rel) const { return read_text(path(rel)); }
  // What the daemon printed (stdout and stderr), for failure messages.
  std::string log() const { return read_text(log_); }

  // Waits until `status` no longer says "checking"; returns its line.
  std::string wait_for_check(std::chrono::seconds timeout = std::chrono::seconds(60)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string s = read("status");
    while (s.rfind("checking", 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      s = read("status");
    }
    return s;
  }

  // Unmounts and reaps the daemon; returns its exit status (-1 if it had to be killed).
  int unmount() {
    if (pid_ < 0 && !is_mounted(dir_)) return exit_status_;
    if (is_mounted(dir_)) run({"fusermount3", "-u", dir_}, "", 10);
    if (is_mounted(dir_)) run({"fusermount3", "-uz", dir_}, "", 10);
    if (pid_ > 0) {
      exit_status_ = wait_for(pid_, std::chrono::seconds(10));
      if (exit_status_ < 0) {
        kill(pid_, SIGKILL);
        wait_for(pid_, std::chrono::seconds(5));
      }
      pid_ = -1;
    }
    return exit_status_;
  }

  // Reaps a daemon that stopped by itself (after a signal); its exit status or -1.
  int wait_exit(std::chrono::seconds timeout) {
    if (pid_ < 0) return exit_status_;
    exit_status_ = wait_for(pid_, timeout);
    if (exit_status_ >= 0) pid_ = -1;
    return exit_status_;
  }

 private:
  std::string dir_;
  std::string log_;
  pid_t pid_ = -1;
  bool ok_ = false;
  int exit_status_ = -1;
  std::string error_;
};

}  // namespace qcow2::test
