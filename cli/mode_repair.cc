// The writing options: each becomes one RepairCommand, planned, validated and applied by the
// engine (engine/repair/run_repair.h) under QEMU's locks with an undo journal; then the image
// is checked again, and that check is printed and is the exit status.
#include <fmt/format.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "cli/modes.h"
#include "cli/report.h"
#include "cli/session.h"
#include "engine/render/check_text.h"
#include "engine/render/header_text.h"
#include "engine/render/plan_text.h"
#include "engine/repair/run_repair.h"
#include "engine/util/escape.h"

namespace qcow2::cli {
namespace {

Result<uint64_t> number(const char* what, const std::string& s) {
  if (auto v = parse_number(s)) return *v;
  return Status::InvalidArgument(fmt::format("{} '{}' is not a number (decimal, or hex with 0x)", what, s));
}

// The words of a field name: "l2 69 674" or "header.l1_size".
std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

Result<RepairCommand> command_of(const Options& opt) {
  RepairCommand cmd;
  cmd.dry_run = opt.dry_run;
  cmd.destructive = opt.destructive;
  if (!opt.undo.empty()) {
    cmd.kind = RepairKind::kUndo;
    cmd.journal = opt.undo;
  } else if (!opt.repair.empty()) {
    static const std::pair<const char*, RepairKind> kinds[] = {
        {"leak", RepairKind::kLeaks},  {"error", RepairKind::kErrors},    {"all", RepairKind::kAll},
        {"reuse", RepairKind::kReuse}, {"rebuild", RepairKind::kRebuild}, {"discard", RepairKind::kDiscard}};
    for (const auto& [name, kind] : kinds)
      if (opt.repair == name) cmd.kind = kind;
  } else if (!opt.apply.empty()) {
    cmd.kind = RepairKind::kRevert;
    cmd.snapshot = opt.apply;
  } else if (!opt.delete_snap.empty()) {
    cmd.kind = RepairKind::kDelete;
    cmd.snapshot = opt.delete_snap;
  } else if (!opt.keep_only.empty()) {
    cmd.kind = RepairKind::kKeepOnly;
    cmd.snapshot = opt.keep_only;
  } else if (!opt.mark.empty() || !opt.clean.empty()) {
    cmd.kind = opt.mark.empty() ? RepairKind::kClearBit : RepairKind::kSetBit;
    cmd.bit = opt.mark.empty() ? opt.clean : opt.mark;
  } else if (opt.mode == Mode::kEdit) {
    cmd.kind = RepairKind::kPatch;
    QCOW2_ASSIGN_OR_RETURN(cmd.value, number("-V", *opt.value));
    if (opt.offset) {
      QCOW2_ASSIGN_OR_RETURN(cmd.offset, number("-O", *opt.offset));
    } else {
      cmd.field = words(opt.field);
    }
    if (opt.length) {
      QCOW2_ASSIGN_OR_RETURN(const uint64_t w, number("-L", *opt.length));
      if (w != 1 && w != 2 && w != 4 && w != 8) return Status::InvalidArgument("-L is 1, 2, 4 or 8 for -m edit");
      cmd.width = static_cast<unsigned>(w);
    }
  } else if (opt.mode == Mode::kCopy) {
    cmd.kind = RepairKind::kCopy;
    QCOW2_ASSIGN_OR_RETURN(cmd.offset, number("-O", *opt.offset));
    QCOW2_ASSIGN_OR_RETURN(cmd.source, number("-S", *opt.source));
    QCOW2_ASSIGN_OR_RETURN(cmd.length, number("-L", *opt.length));
    cmd.source_file = opt.source_file;
  }
  return cmd;
}

int repair_exit_code(const Status& st) {
  switch (st.code()) {
    case Code::kBusy: return kExitInUse;
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kLimit: return kExitUsage;
    case Code::kNotQcow2: return kExitNotQcow2;
    case Code::kIOError:
    case Code::kCorruption: return kExitRepairFailed;
    default: return kExitInternal;
  }
}

}  // namespace

int run_repair_mode(const Options& opt) {
  auto cmd = command_of(opt);
  if (!cmd.ok()) return fail(kExitUsage, cmd.status().message());
  RepairOptions ro;
  ro.journal = opt.journal;
  ro.skip_backing = opt.base;
  auto outcome = run_repair(opt.image, *cmd, ro);
  if (!outcome.ok()) {
    // An image that does not open is what every mode calls it (65 not qcow2, 66 cannot open),
    // not a failed repair.
    if (cmd->kind != RepairKind::kUndo)
      if (auto probe = Image::open(opt.image); !probe.ok())
        return fail(exit_code_for(probe.status()), probe.status().message());
    return fail(repair_exit_code(outcome.status()), outcome.status().message());
  }

  if (!outcome->warning.empty()) fmt::print(stderr, "qcow2-dump: warning: {}\n", outcome->warning);
  FileSink out(stdout);
  if (cmd->kind != RepairKind::kUndo) out.write(plan_text(outcome->plan));
  if (outcome->applied)
    out.write(fmt::format("applied; undo journal: {}\n  (qcow2-dump --undo {} {} puts the image back)\n",
                          escape_text(outcome->journal), shell_quote(outcome->journal), shell_quote(opt.image)));
  else if (cmd->dry_run)
    out.write("dry run: nothing was written\n");
  else
    out.write("nothing to do: nothing was written\n");
  if (outcome->applied && outcome->after_image) {
    out.write("\nthe check after it:\n");
    const Style st(opt.color(::isatty(STDOUT_FILENO)));
    render_header(*outcome->after_image, st, out);
    CheckTextOptions to;
    to.errors = true;
    render_check(*outcome->after_image, outcome->after, to, st, out);
  }
  const int written = finish(out, {});
  return written != kExitOk ? written : exit_code(outcome->after.status);
}

}  // namespace qcow2::cli
