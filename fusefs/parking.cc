#include "fusefs/parking.h"

#include <cerrno>

namespace qcow2fs {

// Lock order: our mutex, then CheckState's, then libfuse's session lock (fuse_req_interrupted).
// libfuse calls on_interrupt holding the request's own lock, never its session lock, and we
// never call fuse_req_interrupt_func with our mutex held, so there is no cycle.
void Parking::when_checked(fuse_req_t req, CheckState& check, Answer answer_fn) {
  if (const CheckOutcome* o = check.done()) return answer(req, *o, answer_fn);
  // Registered first, while nobody else can answer (and so free) the request. An interrupt
  // that came before is reported by fuse_req_interrupted below.
  fuse_req_interrupt_func(req, &Parking::on_interrupt, this);
  bool answer_now = false;
  bool answer_eintr = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Room first: once the waiter exists only the check's thread may answer, so nothing that
    // can throw may come after it.
    auto slot = parked_.emplace(req, Parked{&check, 0}).first;
    uint64_t id = 0;
    try {
      // The waiter's first step takes our mutex: while we hold it, the request stays unanswered.
      id = check.add_waiter([this, req, answer_fn](const CheckOutcome& o) {
        forget(req);
        answer(req, o, answer_fn);
      });
    } catch (...) {
      parked_.erase(slot);
      throw;
    }
    if (id == 0) {  // finished in between
      parked_.erase(slot);
      answer_now = true;
    } else if (fuse_req_interrupted(req)) {
      parked_.erase(slot);
      answer_eintr = check.remove_waiter(id);  // else the check's thread has it already
    } else {
      slot->second.waiter = id;
    }
  }
  if (answer_eintr) fuse_reply_err(req, EINTR);
  if (answer_now) answer(req, *check.done(), answer_fn);
}

void Parking::on_interrupt(fuse_req_t req, void* self) { static_cast<Parking*>(self)->interrupted(req); }

// From libfuse's thread that read the INTERRUPT: the request is kept alive by libfuse for the
// duration of this call, so answering it here is safe.
void Parking::interrupted(fuse_req_t req) {
  bool mine = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = parked_.find(req);
    if (it == parked_.end()) return;  // answered, being answered, or not parked yet
    mine = it->second.check->remove_waiter(it->second.waiter);
    parked_.erase(it);
  }
  if (mine) fuse_reply_err(req, EINTR);
}

void Parking::forget(fuse_req_t req) {
  std::lock_guard<std::mutex> lock(mu_);
  parked_.erase(req);
}

void Parking::answer(fuse_req_t req, const CheckOutcome& outcome, const Answer& answer_fn) const {
  if (outcome.cancelled()) return (void)fuse_reply_err(req, stopping_.load() ? EINTR : ESTALE);
  try {
    answer_fn(req, outcome);
  } catch (...) {
    // Only before the answer replied: it catches nothing itself and replies last.
    fuse_reply_err(req, EIO);
  }
}

}  // namespace qcow2fs
