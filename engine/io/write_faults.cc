#include "engine/io/write_faults.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace qcow2 {
namespace {

struct Fault {
  bool armed = false;
  FaultOp op = FaultOp::kWrite;
  unsigned long n = 0;
  int err = 0;  // 0: crash (or stop) after operation n
  bool stop = false;
};

Fault parse() {
  Fault f;
  const char* env = std::getenv("QCOW2FS_FAULT");
  if (!env) return f;
  const std::string s(env);
  const size_t a = s.find(':'), b = s.find(':', a + 1);
  if (a == std::string::npos || b == std::string::npos) return f;
  const std::string op = s.substr(0, a), what = s.substr(b + 1);
  f.n = std::strtoul(s.substr(a + 1, b - a - 1).c_str(), nullptr, 10);
  if (f.n == 0 || (op != "write" && op != "sync")) return f;
  f.op = op == "write" ? FaultOp::kWrite : FaultOp::kSync;
  if (what == "eio") f.err = EIO;
  else if (what == "enospc") f.err = ENOSPC;
  else if (what == "stop") f.stop = true;
  else if (what != "crash") return f;
  f.armed = true;
  return f;
}

const Fault& fault() {
  static const Fault f = parse();
  return f;
}

std::atomic<unsigned long> counts[2];

}  // namespace

int fault_before(FaultOp op) {
  const Fault& f = fault();
  if (!f.armed || f.op != op || f.err == 0) return 0;
  // Counted here for failures: operation n fails (and is not done).
  const unsigned long n = counts[static_cast<int>(op)].fetch_add(1) + 1;
  return n == f.n ? f.err : 0;
}

void fault_after(FaultOp op) {
  const Fault& f = fault();
  if (!f.armed || f.op != op || f.err != 0) return;
  const unsigned long n = counts[static_cast<int>(op)].fetch_add(1) + 1;
  if (n != f.n) return;
  if (f.stop) ::raise(SIGSTOP);  // a test looks at the image mid-repair, then continues us
  else ::_exit(kCrashExitStatus);
}

}  // namespace qcow2
