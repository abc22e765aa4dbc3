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

Fs::Fs(std::unique_ptr<qcow2::Image> img, bool read_only_mount)
    : tree(std::move(img)),
      idle(kQuiet,
           [this] {
             // The cache's text is the bulk of what a mount holds; once freed, malloc_trim
             // returns the free pages of every arena (main.cc keeps them otherwise).
             cache.clear();
             malloc_trim(0);
           }),
      check(tree.image()),
      read_only(read_only_mount),
      mount_time(std::time(nullptr)),
      uid(getuid()),
      gid(getgid()) {}

}  // namespace qcow2fs
