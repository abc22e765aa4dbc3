#include "fusefs/fs.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>

#include "fusefs/attr.h"

namespace qcow2fs {
namespace {

// How often the housekeeper looks at the image, and how long without a request before the
// mount counts as idle: longer than the gaps inside one `ls -l` or `grep -r`, short enough
// that an idle mount shrinks (and a changed image is noticed) soon after.
constexpr std::chrono::milliseconds kPeriod{1000};

// How long reopen(settle) waits for the kernel to drop the old view's names.
constexpr std::chrono::milliseconds kSettleLimit{5000};

}  // namespace

Fs::Fs(std::shared_ptr<View> first, const MountConfig& mount_config)
    : config(mount_config),
      mount_time(std::time(nullptr)),
      uid(getuid()),
      gid(getgid()),
      housekeeper(
          kPeriod, [this] { tick(); },
          [this] {
            // The cache's text is the bulk of what a mount holds; once freed, malloc_trim
            // returns the free pages of every arena (main.cc keeps them otherwise).
            if (auto v = view()) v->cache.clear();
            malloc_trim(0);
          }),
      open_files(mount_config.max_open_text),
      view_(std::move(first)),
      generation_(view_->generation),
      last_noticed_(view_->stamp) {}

Fs::~Fs() { housekeeper.stop(); }  // first: its thread uses the members below

void Fs::start(fuse_session* se) {
  session_.store(se);
  invalidator_.start(se);
  housekeeper.start();
  // The check frees most of what it used when it ends: a trim is due then as well.
  view()->check.start([this] { housekeeper.touch(); });
}

void Fs::stop(fuse_session* se) {
  control.stop();
  housekeeper.stop();
  invalidator_.stop(se);  // may still answer requests: needs the view
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

ImageChange Fs::change() const {
  std::lock_guard<std::mutex> lock(mu_);
  return change_;
}

void Fs::notice_change() {
  if (repairing_.load() != 0) return;
  const std::shared_ptr<View> v = view();
  if (!v) return;
  std::optional<qcow2::ImageStamp> now = qcow2::stamp_image(v->tree.image().path());
  if (now && *now == v->stamp) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (now == last_noticed_) return;  // this state was noticed already
    last_noticed_ = std::move(now);
    change_.at = std::time(nullptr);
    change_.reopening = true;
    change_.error.clear();
  }
  housekeeper.poke();
}

void Fs::tick() {
  notice_change();
  if (repairing_.load() == 0 && change().reopening) (void)reopen();
}

qcow2::Status Fs::reopen(bool settle) {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> one_at_a_time(reopen_mu_);
    const std::shared_ptr<View> current = view();
    if (!current) return qcow2::Status::Cancelled("the mount is ending");
    auto next = open_view(current->tree.image().path(), next_generation(), config.check, !config.read_only);
    if (!next.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      change_.reopening = false;
      change_.error = next.status().message();
      return next.status();
    }
    ticket = install(std::move(next).value());
  }
  // Outside the lock, and bounded: should a notification wait for a directory lock that a
  // stuck request holds, the caller still goes on (the names then go a little later).
  if (settle && ticket != 0) (void)invalidator_.sent(ticket, kSettleLimit);
  return qcow2::Status::Ok();
}

// The one place a view is replaced. The old one stays alive while requests still use it; its
// check is cancelled, so what is parked on it answers ESTALE and the kernel asks again.
uint64_t Fs::install(std::shared_ptr<View> next) {
  next->check.start([this] { housekeeper.touch(); });
  std::shared_ptr<View> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(view_);
    view_ = next;
    generation_.store(next->generation);
    change_.reopening = false;
    change_.error.clear();
  }
  old->check.cancel();
  // From what the old view knows without reading the image, which may be half rewritten.
  std::vector<StaleName> names;
  for (uint64_t ino : known.all()) {
    const auto name = node_of(ino);
    if (!name || name->gen != old->generation) continue;
    std::string file = old->tree.name_of(name->node);
    if (!file.empty()) names.push_back({old->ino(old->tree.parent(name->node)), std::move(file)});
  }
  return invalidator_.send(std::move(names));
}

// The next generation after the current one that no inode the kernel holds still carries.
uint32_t Fs::next_generation() const {
  uint32_t g = generation_.load();
  for (uint32_t tries = 0; tries < kGenerations; ++tries) {
    g = (g + 1) % kGenerations;
    if (!known.uses_generation(g)) return g;
  }
  return (generation_.load() + 1) % kGenerations;  // 65536 generations all held: cannot happen
}

}  // namespace qcow2fs
