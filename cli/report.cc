#include "cli/report.h"

#include <fmt/format.h>

#include <cstdio>

#include "cli/exit_codes.h"

namespace qcow2::cli {

int fail(int code, std::string_view message) {
  std::fflush(stdout);  // keep stdout's text ahead of the error when both go to one terminal
  fmt::print(stderr, "qcow2-dump: {}\n", message);
  return code;
}

int exit_code_for(const Status& st) {
  switch (st.code()) {
    case Code::kNotQcow2:
    case Code::kNotSupported:
    case Code::kCorruption:
      return kExitNotQcow2;
    case Code::kNotFound:
    case Code::kIOError:
    case Code::kInvalidArgument:  // a directory or other non-file
      return kExitCannotOpen;
    default:
      return kExitInternal;
  }
}

}  // namespace qcow2::cli
