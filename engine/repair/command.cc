#include "engine/repair/command.h"

#include <fmt/format.h>

#include <charconv>

namespace qcow2 {
namespace {

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\n' && line[j] != '\r') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

Status bad(std::string_view file, const std::string& why) {
  return Status::InvalidArgument(fmt::format("ctl/{}: {}", file, why));
}

Result<uint64_t> number(std::string_view file, const std::string& what, const std::string& word) {
  if (auto v = parse_number(word)) return *v;
  return bad(file, fmt::format("{} '{}' is not a number (decimal, or hex with 0x)", what, word));
}

}  // namespace

const char* repair_kind_name(RepairKind k) {
  switch (k) {
    case RepairKind::kLeaks: return "leak";
    case RepairKind::kErrors: return "error";
    case RepairKind::kAll: return "all";
    case RepairKind::kReuse: return "reuse";
    case RepairKind::kRebuild: return "rebuild";
    case RepairKind::kDiscard: return "discard";
    case RepairKind::kRevert: return "revert";
    case RepairKind::kDelete: return "delete";
    case RepairKind::kKeepOnly: return "keep";
    case RepairKind::kSetBit: return "set";
    case RepairKind::kClearBit: return "clear";
    case RepairKind::kPatch: return "patch";
    case RepairKind::kCopy: return "copy";
    case RepairKind::kUndo: return "undo";
  }
  return "?";
}

const char* control_file_of(RepairKind k) {
  switch (k) {
    case RepairKind::kLeaks: case RepairKind::kErrors: case RepairKind::kAll: case RepairKind::kReuse:
    case RepairKind::kRebuild: case RepairKind::kDiscard: return "repair";
    case RepairKind::kRevert: case RepairKind::kDelete: case RepairKind::kKeepOnly: return "snapshot";
    case RepairKind::kSetBit: case RepairKind::kClearBit: return "bits";
    case RepairKind::kPatch: return "patch";
    case RepairKind::kCopy: return "copy";
    case RepairKind::kUndo: return "undo";
  }
  return "?";
}

std::optional<uint64_t> parse_number(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

const char* control_grammar() {
  return "repair:   leak | error | all | reuse | rebuild | discard  [destructive]\n"
         "snapshot: revert SNAP | delete SNAP | delete all | keep SNAP | keep 0\n"
         "bits:     set corrupt|dirty | clear corrupt|dirty\n"
         "patch:    OFFSET VALUE [1|2|4|8]  |  header.FIELD VALUE  |  l1 I VALUE  |  l2 I J VALUE\n"
         "          |  reftable I VALUE  |  refcount CLUSTER VALUE\n"
         "copy:     DST SRC LENGTH [FILE]\n"
         "undo:     JOURNAL\n"
         "A leading 'plan' makes any of them a dry run: the plan is left in ctl/plan, nothing is written.\n"
         "Numbers are decimal, or hex with 0x. SNAP is an id, a name, or snapshot[N] (the N-th entry).\n";
}

Result<RepairCommand> parse_control_line(std::string_view file, std::string_view line) {
  std::vector<std::string> w = words_of(line);
  RepairCommand cmd;
  if (!w.empty() && w[0] == "plan") {
    cmd.dry_run = true;
    w.erase(w.begin());
  }
  if (w.empty()) return bad(file, "no command; the grammar is in ctl/README");
  const std::string& verb = w[0];
  if (file == "repair") {
    static const std::pair<const char*, RepairKind> kinds[] = {
        {"leak", RepairKind::kLeaks},   {"error", RepairKind::kErrors},     {"all", RepairKind::kAll},
        {"reuse", RepairKind::kReuse},  {"rebuild", RepairKind::kRebuild}, {"discard", RepairKind::kDiscard}};
    bool known = false;
    for (const auto& [name, kind] : kinds)
      if (verb == name) cmd.kind = kind, known = true;
    if (!known) return bad(file, fmt::format("unknown repair '{}': leak, error, all, reuse, rebuild or discard", verb));
    if (w.size() == 2 && w[1] == "destructive") cmd.destructive = true;
    else if (w.size() > 1) return bad(file, fmt::format("unexpected '{}' (only 'destructive' may follow)", w[1]));
    return cmd;
  }
  if (file == "snapshot") {
    if (w.size() != 2) return bad(file, "revert SNAP | delete SNAP | delete all | keep SNAP | keep 0");
    if (verb == "revert") cmd.kind = RepairKind::kRevert;
    else if (verb == "delete") cmd.kind = RepairKind::kDelete;
    else if (verb == "keep") cmd.kind = RepairKind::kKeepOnly;
    else return bad(file, fmt::format("unknown snapshot command '{}': revert, delete or keep", verb));
    cmd.snapshot = w[1];
    return cmd;
  }
  if (file == "bits") {
    if (w.size() != 2 || (verb != "set" && verb != "clear") || (w[1] != "corrupt" && w[1] != "dirty"))
      return bad(file, "set corrupt|dirty | clear corrupt|dirty");
    cmd.kind = verb == "set" ? RepairKind::kSetBit : RepairKind::kClearBit;
    cmd.bit = w[1];
    return cmd;
  }
  if (file == "patch") {
    cmd.kind = RepairKind::kPatch;
    if (parse_number(w[0])) {  // OFFSET VALUE [WIDTH]
      if (w.size() < 2 || w.size() > 3) return bad(file, "OFFSET VALUE [1|2|4|8]");
      QCOW2_ASSIGN_OR_RETURN(cmd.offset, number(file, "offset", w[0]));
      QCOW2_ASSIGN_OR_RETURN(cmd.value, number(file, "value", w[1]));
      if (w.size() == 3) {
        QCOW2_ASSIGN_OR_RETURN(const uint64_t width, number(file, "width", w[2]));
        if (width != 1 && width != 2 && width != 4 && width != 8) return bad(file, "the width is 1, 2, 4 or 8");
        cmd.width = static_cast<unsigned>(width);
      }
      return cmd;
    }
    if (w.size() < 2) return bad(file, "FIELD... VALUE");
    QCOW2_ASSIGN_OR_RETURN(cmd.value, number(file, "value", w.back()));
    cmd.field.assign(w.begin(), w.end() - 1);
    return cmd;
  }
  if (file == "copy") {
    if (w.size() < 3 || w.size() > 4) return bad(file, "DST SRC LENGTH [FILE]");
    cmd.kind = RepairKind::kCopy;
    QCOW2_ASSIGN_OR_RETURN(cmd.offset, number(file, "destination", w[0]));
    QCOW2_ASSIGN_OR_RETURN(cmd.source, number(file, "source", w[1]));
    QCOW2_ASSIGN_OR_RETURN(cmd.length, number(file, "length", w[2]));
    if (w.size() == 4) cmd.source_file = w[3];
    return cmd;
  }
  if (file == "undo") {
    if (w.size() != 1) return bad(file, "JOURNAL (one path)");
    cmd.kind = RepairKind::kUndo;
    cmd.journal = w[0];
    return cmd;
  }
  return bad(file, "not a control file");
}

}  // namespace qcow2
