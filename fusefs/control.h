// The mount's repair front: what a command written to a control file of ctl/ does (read-write
// mounts only; ctl_files.h names the files). One command per write(), parsed by the engine's
// control-file grammar (engine/repair/command.h) and run through the engine's whole repair
// (engine/repair/run_repair.h: QEMU's locks, check, plan, validation, apply with an undo
// journal, check again) in the request's own worker thread; the other workers keep answering.
// The write returns once the command is done, and its errno is the verdict, because a shell's
// builtin echo ignores an error reported at close(): 0 done, EINVAL a bad command, ENOENT an
// unknown snapshot / table / field, EBUSY another command running or a QEMU user holding the
// image, EOPNOTSUPP not supported, EROFS a read-only mount or an image that cannot be written,
// EIO anything else. ctl/error then says why in one line.
//
// An applied command changes the image: the mount then opens it again as a new view (Fs::
// reopen), so every file shows the new state and the kernel drops the names it cached (sent
// from the invalidator's thread, never from this request's; the write returns once they are
// dropped, so the writer's next lookup sees the new tree). While a command runs, the mount does
// not take the image's changes for someone else's (Fs::notice_change).
#pragma once

#include <cstdint>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/util/status.h"

namespace qcow2fs {

class Fs;

// The longest command a write may carry (the longest real one is a copy with a file name).
inline constexpr size_t kMaxCommandBytes = 4096;

// The errno a refused command answers for an engine status (kOk: 0).
int errno_of(const qcow2::Status& st);

class Control {
 public:
  Control() = default;
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // Runs the command `bytes` written to control file `file` (ctl_is_command) and returns 0, or
  // the errno to answer. Records the outcome for ctl/plan, ctl/error, ctl/journal, ctl/last and
  // `status`. Never throws.
  int run(Fs& fs, uint64_t file, std::string_view bytes);

  // The text of control file `file` now (for a command file: its grammar line).
  std::string text(uint64_t file) const;
  // When the last command began or ended: the control files' mtime.
  std::time_t changed_at() const;
  // Lines for `status`: the command running, or the last one applied ("" when neither).
  std::string status_lines() const;

  // The mount ends: a command held by the test hook is refused at once (nothing written).
  void stop();

 private:
  struct Record;
  // Records the refusal of `r` (why: `reason`) and returns `err`.
  int finish(const Record& r, int err, const std::string& reason);
  int refuse_locked(const Record& r, int err, const std::string& reason);  // mu_ held
  bool stopping() const;

  mutable std::mutex mu_;
  bool running_ = false;
  std::string running_what_;  // "ctl/repair all"
  std::time_t running_since_ = 0;
  std::string plan_, error_, journal_, last_;
  std::string applied_;  // the status line of the last applied command
  std::time_t changed_at_ = std::time(nullptr);
  bool stopping_ = false;
};

}  // namespace qcow2fs
