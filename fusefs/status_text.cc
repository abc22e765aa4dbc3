#include "fusefs/status_text.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "fusefs/fs.h"

namespace qcow2fs {
namespace {

std::string utc(std::time_t t) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(t)); }

}  // namespace

std::string status_line(const CheckOutcome* o, unsigned percent) {
  if (!o) return fmt::format("checking {}%\n", percent);
  if (o->internal_error) return "failed 70\n";  // qcow2-dump's exit status for an internal error
  const qcow2::CheckResult* r = o->ok();
  // An image that cannot be read through gets qcow2-dump's "cannot open" status.
  if (!r) return "failed 66\n";
  return fmt::format("{} {}\n", qcow2::status_word(r->status), qcow2::exit_code(r->status));
}

std::string status_text(Fs& fs, View& v) {
  fs.notice_change();
  const ImageChange change = fs.change();
  // A change noticed but not yet opened again: the verdict shown so far is about old bytes.
  std::string out = change.reopening ? status_line(nullptr, 0) : status_line(v.check.done(), v.check.percent());
  out += fs.control.status_lines();  // a command of ctl/ running, the last one applied
  if (change.at != 0) {
    if (!change.error.empty())
      out += fmt::format("changed at {}: cannot open it again ({}); the files show it as before\n",
                         utc(change.at), change.error);
    else
      out += fmt::format("changed at {}: {}\n", utc(change.at),
                         change.reopening || !v.check.done() ? "re-checking" : "re-checked");
  }
  if (!v.in_use.empty())
    out += fmt::format("{}: its metadata may be torn{}\n", v.in_use,
                       fs.config.force_share ? "; mounted with -U (--force-share)" : "");
  return out;
}

}  // namespace qcow2fs
