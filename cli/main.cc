// qcow2-dump: shows the structure of a qcow2 image, read-only. See man/qcow2-dump.1.
#include <csignal>
#include <exception>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/options.h"
#include "cli/report.h"

namespace {

int run(int argc, char** argv) {
  using namespace qcow2::cli;
  Options opt;
  if (auto code = parse_options(argc, argv, opt)) return *code;
  if (opt.header_layout) return run_header_layout();
  if (opt.writes()) return run_repair_mode(opt);
  switch (opt.mode) {
    case Mode::kInfo: return run_info(opt);
    case Mode::kDump: return run_dump(opt);
    case Mode::kCheck:
    case Mode::kError: return run_check(opt);
    case Mode::kEdit:
    case Mode::kCopy: return run_repair_mode(opt);
  }
  return kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
  // A reader that stops early (| head) must be a failed write we report (exit 70, one line),
  // not a death by SIGPIPE (141) that scripts cannot tell from a crash.
  std::signal(SIGPIPE, SIG_IGN);
  // The engine reports errors as values; only allocation failures and library bugs get here.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return qcow2::cli::fail(qcow2::cli::kExitInternal, e.what());
  }
}
