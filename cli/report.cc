#include "cli/report.h"

#include <fmt/format.h>

#include <cstdio>

#include "cli/exit_codes.h"
#include "engine/util/escape.h"

namespace qcow2::cli {

int fail(int code, std::string_view message) {
  std::fflush(stdout);  // keep stdout's text ahead of the error when both go to one terminal
  // Messages quote paths and names from the image: keep the line one line.
  fmt::print(stderr, "qcow2-dump: {}\n", is_printable_ascii(message) ? std::string(message) : escape_text(message));
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
