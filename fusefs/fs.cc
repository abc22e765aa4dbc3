#include "fusefs/fs.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>

namespace qcow2fs {
namespace {

// How long without a request before the mount counts as idle: longer than the gaps inside one
// `ls -l` or `grep -r`, short enough that an idle mount shrinks soon after.
constexpr std::chrono::milliseconds kQuiet{1000};

}  // namespace

Fs::Fs(std::shared_ptr<View> first, const MountConfig& mount_config)
    : config(mount_config),
      mount_time(std::time(nullptr)),
      uid(getuid()),
      gid(getgid()),
      idle(kQuiet,
           [this] {
             // The cache's text is the bulk of what a mount holds; once freed, malloc_trim
             // returns the free pages of every arena (main.cc keeps them otherwise).
             if (auto v = view()) v->cache.clear();
             malloc_trim(0);
           }),
      open_files(mount_config.max_open_text),
      view_(std::move(first)),
      generation_(view_->generation) {}

Fs::~Fs() { idle.stop(); }  // first: its thread uses the members below

void Fs::start() {
  idle.start();
  // The check frees most of what it used when it ends: a trim is due then as well.
  view()->check.start([this] { idle.touch(); });
}

void Fs::stop() {
  idle.stop();
  parking.stop();
  std::shared_ptr<View> last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last = std::move(view_);
  }
  if (last) last->check.cancel();
  last.reset();  // joins the check, whose waiters answer what is still parked
}

std::shared_ptr<View> Fs::view() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

}  // namespace qcow2fs
