#include "fusefs/control.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "engine/io/file_stamp.h"
#include "engine/render/plan_text.h"
#include "engine/repair/command.h"
#include "engine/repair/run_repair.h"
#include "engine/util/escape.h"
#include "fusefs/ctl_files.h"
#include "fusefs/fs.h"

namespace qcow2fs {
namespace {

// How long the test hook holds a command at most: a failed test must not hang its unmount.
constexpr auto kHoldLimit = std::chrono::seconds(60);

std::string utc(std::time_t t) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(t)); }

// The words of a command, one blank apart, on one line of printable ASCII (other bytes '?').
std::string shown(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    while (i < bytes.size() && std::strchr(" \t\r\n", bytes[i]) && bytes[i]) ++i;
    size_t j = i;
    while (j < bytes.size() && !(std::strchr(" \t\r\n", bytes[j]) && bytes[j])) ++j;
    if (j > i) {
      if (!out.empty()) out += ' ';
      for (char c : bytes.substr(i, j - i)) out += c >= 0x20 && c < 0x7f ? c : '?';
    }
    i = j;
  }
  if (out.size() > 200) out = out.substr(0, 200) + "...";
  return out;
}

// One line, whatever the engine's message holds.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\n' ? ' ' : c;
  return qcow2::escape_text(out);
}

// Printable ASCII and blanks: anything else is not a command (and never reaches a file name).
bool is_command_text(std::string_view bytes) {
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (!(u >= 0x20 && u < 0x7f) && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// A relative file name in a command is relative to the image's directory: the daemon's working
// directory is "/" (fuse_daemonize) and the writer's is unknown.
std::string beside_image(const std::string& image, const std::string& name) {
  if (name.empty() || name[0] == '/') return name;
  return (std::filesystem::path(image).parent_path() / name).string();
}

// The lines of control_grammar() for control file `name`.
std::string grammar_of(const std::string& name) {
  const std::string all = qcow2::control_grammar();
  std::string out;
  bool in = false;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string::npos) end = all.size();
    const std::string line = all.substr(start, end - start);
    if (line.rfind(name + ":", 0) == 0) in = true;
    else if (line.empty() || line[0] != ' ') in = false;
    if (in) out += line + "\n";
    start = end + 1;
  }
  return out + "(write one command; a leading 'plan' makes it a dry run; see README)\n";
}

const char* errno_name(int err) {
  switch (err) {
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EBUSY: return "EBUSY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EROFS: return "EROFS";
    case EACCES: return "EACCES";
    default: return "EIO";
  }
}

}  // namespace

int errno_of(const qcow2::Status& st) {
  switch (st.code()) {
    case qcow2::Code::kOk: return 0;
    case qcow2::Code::kInvalidArgument:
    case qcow2::Code::kLimit: return EINVAL;
    case qcow2::Code::kNotFound: return ENOENT;
    case qcow2::Code::kBusy: return EBUSY;
    case qcow2::Code::kNotSupported: return EOPNOTSUPP;
    default: return EIO;
  }
}

struct Control::Record {
  std::string file;  // "repair"
  std::string what;  // "repair plan all": the file and the command
};

int Control::finish(const Record& r, int err, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  return refuse_locked(r, err, reason);
}

int Control::refuse_locked(const Record& r, int err, const std::string& reason) {
  changed_at_ = std::time(nullptr);
  plan_.clear();
  error_ = one_line(reason) + "\n";
  // EIO: it was tried and failed; anything else: refused before a byte was written.
  last_ = fmt::format("{}: {} at {}: {}\n", r.what, err == EIO ? "failed" : "refused", utc(changed_at_),
                      errno_name(err));
  return err;
}

int Control::run(Fs& fs, uint64_t file, std::string_view bytes) {
  const std::string name = ctl_file_name(file);
  const std::string words = shown(bytes);
  Record r{name, words.empty() ? name : name + " " + words};
  if (!ctl_is_command(file)) return finish(r, EACCES, fmt::format("ctl/{} is not a control file one writes to", name));
  if (fs.config.read_only)
    return finish(r, EROFS, fmt::format("ctl/{}: the mount is read-only (mount with -o rw to repair)", name));
  if (bytes.size() > kMaxCommandBytes)
    return finish(r, EINVAL, fmt::format("ctl/{}: a command is at most {} bytes; this write has {}: nothing was done",
                                         name, kMaxCommandBytes, bytes.size()));
  if (!is_command_text(bytes))
    return finish(r, EINVAL, fmt::format("ctl/{}: a command is one line of printable ASCII: nothing was done", name));
  auto parsed = qcow2::parse_control_line(name, bytes);
  if (!parsed.ok()) return finish(r, EINVAL, parsed.status().message());
  qcow2::RepairCommand cmd = std::move(parsed).value();

  const auto view = fs.view();
  if (!view) return finish(r, EIO, "the mount is ending");
  const std::string image = view->tree.image().path();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_)
      return refuse_locked(r, EBUSY, fmt::format("ctl/{}: another command is running ({}, since {}): nothing was done",
                                                 name, running_what_, utc(running_since_)));
    running_ = true;
    running_what_ = "ctl/" + r.what;
    running_since_ = changed_at_ = std::time(nullptr);
    last_ = fmt::format("{}: running since {}\n", r.what, utc(running_since_));
  }
  // Ends the command whatever happens below, an exception included.
  struct Running {
    Control& c;
    Fs& fs;
    ~Running() {
      fs.end_repair();
      std::lock_guard<std::mutex> lock(c.mu_);
      c.running_ = false;
    }
  } running{*this, fs};
  fs.begin_repair();

  try {
    if (!fs.config.test_hold_repair.empty()) {
      const auto until = std::chrono::steady_clock::now() + kHoldLimit;
      while (::access(fs.config.test_hold_repair.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < until) {
        // The request loop joins this thread before Fs::stop runs: a SIGTERM is seen here.
        if (fs.ending() || stopping())
          return finish(r, EIO, fmt::format("ctl/{}: the mount is ending: nothing was done", name));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    cmd.journal = beside_image(image, cmd.journal);
    cmd.source_file = beside_image(image, cmd.source_file);
    if (!cmd.dry_run && ::access(image.c_str(), W_OK) != 0) {
      const int err = errno;
      return finish(r, err == EACCES ? EACCES : EROFS,
                    fmt::format("ctl/{}: {} cannot be written ({}): nothing was done", name, image, std::strerror(err)));
    }
    qcow2::RepairOptions opt;
    opt.skip_backing = fs.config.check.skip_backing;
    auto outcome = qcow2::run_repair(image, cmd, opt);
    if (!outcome.ok()) {
      const int err = errno_of(outcome.status());
      // An applied step may have failed halfway (the message says whether its journal undoes
      // it), or the check after it: whatever the image holds now is what the files must show.
      if (!cmd.dry_run && qcow2::stamp_image(image) != std::optional<qcow2::ImageStamp>(view->stamp))
        (void)fs.reopen(/*settle=*/true);
      return finish(r, err, fmt::format("ctl/{}: {}", r.what, outcome.status().message()));
    }
    const std::time_t now = std::time(nullptr);
    std::string plan = cmd.kind == qcow2::RepairKind::kUndo
                           ? fmt::format("plan: {}\n", qcow2::escape_text(outcome->plan.what))
                           : qcow2::plan_text(outcome->plan);
    std::string last;
    if (outcome->applied) {
      // The new state, before the write returns: a `cat` right after it sees the repaired image.
      const qcow2::Status reopened = fs.reopen(/*settle=*/true);
      const std::string journal = qcow2::escape_text(outcome->journal);
      // An undo has no plan of its own: what it writes is the records of the journal it undoes.
      const std::string edits =
          cmd.kind == qcow2::RepairKind::kUndo ? "" : fmt::format(", {} edits", outcome->plan.edits.size());
      last = fmt::format("{}: applied at {}{}; undo journal: {}{}{}\n", r.what, utc(now), edits, journal,
                         outcome->warning.empty() ? "" : "; warning: " + one_line(outcome->warning),
                         reopened.ok() ? "" : "; the image cannot be opened again: " + one_line(reopened.message()));
      std::lock_guard<std::mutex> lock(mu_);
      journal_ = journal + "\n";
      applied_ = fmt::format("repaired at {}: {} (ctl/{}); undo journal: {}\n", utc(now),
                             qcow2::escape_text(outcome->plan.what), r.what, journal);
    } else if (cmd.dry_run) {
      last = fmt::format("{}: dry run at {}, {} edits: nothing was written\n", r.what, utc(now),
                         outcome->plan.edits.size());
    } else {
      last = fmt::format("{}: nothing to do at {}: nothing was written\n", r.what, utc(now));
    }
    std::lock_guard<std::mutex> lock(mu_);
    plan_ = std::move(plan);
    error_.clear();
    last_ = std::move(last);
    changed_at_ = now;
    return 0;
  } catch (const std::exception& e) {
    return finish(r, EIO, fmt::format("ctl/{}: internal error: {}", r.what, e.what()));
  } catch (...) {
    return finish(r, EIO, fmt::format("ctl/{}: internal error", r.what));
  }
}

std::string Control::text(uint64_t file) const {
  if (ctl_is_command(file)) return grammar_of(ctl_file_name(file));
  std::lock_guard<std::mutex> lock(mu_);
  switch (static_cast<CtlFile>(file)) {
    case CtlFile::kPlan: return plan_;
    case CtlFile::kError: return error_;
    case CtlFile::kJournal: return journal_;
    case CtlFile::kLast: return last_;
    default: return {};
  }
}

std::time_t Control::changed_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return changed_at_;
}

std::string Control::status_lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  if (running_) out += fmt::format("repairing since {}: {}\n", utc(running_since_), running_what_);
  return out + applied_;
}

void Control::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
}

bool Control::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

}  // namespace qcow2fs
