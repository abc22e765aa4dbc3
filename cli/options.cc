#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <memory>

#include "cli/exit_codes.h"
#include "cli/report.h"

namespace qcow2::cli {
namespace {

constexpr const char* kFooter = R"(EXAMPLES:
  qcow2-dump -m info disk.qcow2            header, extensions, snapshots, bitmaps
  qcow2-dump -m dump disk.qcow2            every L1/L2 entry and every refcount
  qcow2-dump -m dump -f -s active disk.qcow2
                                           active tables only, with raw entries and flags
  qcow2-dump -m dump -s 2 disk.qcow2       snapshot with id 2 (else the one named 2)
  qcow2-dump -m dump -o refcount disk.qcow2
                                           refcount table and blocks only
  qcow2-dump disk.qcow2                    check: statistics, status banner and advice
  qcow2-dump -m error disk.qcow2           check, and every bad entry with its context
  qcow2-dump --output=json disk.qcow2      the check as JSON (for scripts)
  qcow2-dump -H                            byte offset and size of every header field

DANGEROUS EXAMPLES (they write the image; each writes an undo journal first):
  qcow2-dump -R all --dry-run disk.qcow2   print the repair plan, write nothing
  qcow2-dump -R all disk.qcow2             repair leaks, refcount errors, COPIED flags, lost entries
  qcow2-dump --undo disk.qcow2.20261204T201500Z.qcow2fs-undo disk.qcow2
                                           put the image back as it was before that repair
  qcow2-dump -A s1 disk.qcow2              revert to snapshot s1 (the active state becomes s1)
  qcow2-dump -C corrupt disk.qcow2         clear the corrupt bit
  qcow2-dump -m edit -O 0x30008 -V 0x80000000000a0000 disk.qcow2
                                           write 8 bytes at 0x30008
  qcow2-dump -m edit --field "l2 0 3" -V 0x80000000000a0000 disk.qcow2
                                           write active L2 table 0's entry 3

EXIT STATUS:
  0   success; in check modes: the image is good
  1   check: leaked clusters only
  2   check: COPIED flags disagree with refcounts (nothing worse)
  3   check: consistent, but the corrupt bit is set
  4   check: refcount errors (too low, or missing refcount blocks)
  5   the snapshot table is damaged
  6   corrupt: structural damage (in info/dump: a header error, after printing what can be read)
  64  usage error (bad option, unknown snapshot)
  65  not a qcow2 image (wrong magic, empty, too short, unknown version)
  66  cannot open or read the image (missing, unreadable, a directory)
  70  internal error
  74  a repair could not be written (the image is as it was, or its journal undoes what was written)
  75  the image is in use: a running VM holds QEMU's write lock (-U inspects it anyway; a repair never)
After a repair, the exit status is that of the check that follows it; after --dry-run, that of
the check of the image as the plan would leave it.

Without a DANGEROUS option the image is opened read-only.)";

// CLI11 2.1 derives "[OPTIONS] [image]" from the options; say it the way the man page does.
class UsageFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override {
    return "Usage: qcow2-dump [options] IMAGE\n       qcow2-dump -H\n";
  }
};

std::optional<Mode> parse_mode(const std::string& s) {
  if (s == "info") return Mode::kInfo;
  if (s == "check") return Mode::kCheck;
  if (s == "error") return Mode::kError;
  if (s == "dump") return Mode::kDump;
  if (s == "edit") return Mode::kEdit;
  if (s == "copy") return Mode::kCopy;
  return std::nullopt;
}

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kInfo: return "info";
    case Mode::kCheck: return "check";
    case Mode::kError: return "error";
    case Mode::kDump: return "dump";
    case Mode::kEdit: return "edit";
    case Mode::kCopy: return "copy";
  }
  return "?";
}

bool Options::color(bool stdout_is_tty) const {
  if (display == "color") return true;
  if (display == "off" || display == "none") return false;
  if (const char* no_color = std::getenv("NO_COLOR"); no_color && *no_color) return false;
  return stdout_is_tty && mode != Mode::kDump;
}

std::optional<int> parse_options(int argc, char** argv, Options& opt) {
  CLI::App app{"Shows the structure of a qcow2 image, read-only.", "qcow2-dump"};
  app.formatter(std::make_shared<UsageFormatter>());
  std::string mode = "check";
  app.add_option("-m,--mode", mode,
                 "info | check | error | dump (default: check); edit, copy: DANGEROUS, they write the image")
      ->check(CLI::IsMember({"info", "check", "error", "dump", "edit", "copy"}));
  app.add_flag("-H,--header", opt.header_layout,
               "print the byte offset and size of every header field (needs no image)");
  app.add_option("-s,--snapshot", opt.snapshot,
                 "active | inactive | all (default) | a snapshot id or name: which L1 tables "
                 "to print");
  app.add_option("-o,--output", opt.output,
                 "refcount | snapshot | all (default): which sections to print; json: the check "
                 "result as JSON (qemu-img check's field names, plus status and findings)")
      ->check(CLI::IsMember({"refcount", "snapshot", "all", "json"}));
  app.add_flag("-f,--flags", opt.flags, "show raw entries and decoded flags in dump output");
  app.add_option("-d,--display", opt.display,
                 "color | off: colours (default: on a terminal, never in dump mode)")
      ->check(CLI::IsMember({"color", "off", "none"}));
  app.add_flag("-b,--base", opt.base, "do not check that the backing file exists");
  app.add_flag("-U,--force-share", opt.force_share,
               "inspect the image even while a running VM holds it for writing (what is read may be torn)");
  app.add_flag("-c,--compress", opt.compress,
               "accepted for compatibility: compressed clusters are always decoded and counted");
  app.add_flag("-p,--prealloc", opt.prealloc,
               "check/error: list each data cluster not where metadata/full preallocation puts it "
               "(images without snapshots)");
  app.add_flag("-N,--nocache", opt.nocache,
               "drop the image's page cache first, so that what another host wrote is read fresh");
  app.add_flag("-K,--dmesg", opt.dmesg, "check/error: also write the one-line result to the kernel log (/dev/kmsg)");
  app.add_flag("-q,--quiet", opt.quiet, "no progress line on a terminal during a check");
  constexpr const char* kDanger = "DANGEROUS (writes the image): ";
  app.add_option("-R,--repair", opt.repair,
                 std::string(kDanger) + "leak | error | all | reuse | rebuild | discard; check, off: no repair")
      ->check(CLI::IsMember({"leak", "error", "all", "reuse", "rebuild", "discard", "check", "off", "none"}));
  app.add_option("-A,--apply", opt.apply, std::string(kDanger) + "revert to snapshot SNAP (id, name or snapshot[N])");
  app.add_option("-D,--delete", opt.delete_snap, std::string(kDanger) + "delete snapshot SNAP, or all of them");
  app.add_option("-E,--except", opt.keep_only, std::string(kDanger) + "delete every snapshot but SNAP (0: all)");
  app.add_option("-M,--mark", opt.mark, std::string(kDanger) + "set the corrupt or dirty bit")
      ->check(CLI::IsMember({"corrupt", "dirty", "none"}));
  app.add_option("-C,--clean", opt.clean, std::string(kDanger) + "clear the corrupt or dirty bit")
      ->check(CLI::IsMember({"corrupt", "dirty", "none"}));
  app.add_option("-O,--offset", opt.offset, "-m edit: where to write; -m copy: the destination");
  app.add_option("-V,--value", opt.value, "-m edit: the value (decimal or 0x-hex)");
  app.add_option("--field", opt.field,
                 "-m edit: a field by name instead of -O: header.NAME, \"l1 I\", \"l2 I J\", \"reftable I\", "
                 "\"refcount CLUSTER\"");
  app.add_option("-S,--src", opt.source, "-m copy: the source offset");
  app.add_option("-L,--length,-w,--width", opt.length, "-m edit: 1, 2, 4 or 8 bytes (default 8); -m copy: bytes");
  app.add_option("-F,--file", opt.source_file, "-m copy: read the source from this file");
  app.add_option("--undo", opt.undo, std::string(kDanger) + "put the image back as the repair JOURNAL found it");
  app.add_flag("--dry-run", opt.dry_run, "with a DANGEROUS option: print the plan, write nothing");
  app.add_flag("--destructive", opt.destructive,
               "with -R: also take steps that may lose data (free leaked clusters that hold data)");
  app.add_option("--journal", opt.journal, "where the undo journal goes (default: beside the image)");
  app.add_flag("-l,--lock", opt.lock, "hold QEMU's locks on a read-only run too (repairs always hold them)");
  app.set_version_flag("-v,--version", "qcow2-dump (qcow2fs) " QCOW2FS_VERSION);
  app.add_option("image", opt.image, "the qcow2 image");
  app.footer(kFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    // CLI11 files unknown options and surplus images alike under "extras"; say which.
    for (const std::string& extra : app.remaining())
      if (extra.size() > 1 && extra[0] == '-') return fail(kExitUsage, fmt::format("unknown option {}", extra));
    return fail(kExitUsage, fmt::format("exactly one IMAGE is expected, also got: {}",
                                        fmt::join(app.remaining(), " ")));
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(kExitUsage, e.what());
  }
  opt.mode = *parse_mode(mode);
  if (opt.repair == "none") opt.repair = "off";
  if (opt.mark == "none") opt.mark.clear();
  if (opt.clean == "none") opt.clean.clear();
  {
    const bool repairs = !opt.repair.empty() && opt.repair != "check" && opt.repair != "off";
    const int writers = repairs + !opt.apply.empty() + !opt.delete_snap.empty() + !opt.keep_only.empty() +
                        !opt.mark.empty() + !opt.clean.empty() + !opt.undo.empty() +
                        (opt.mode == Mode::kEdit || opt.mode == Mode::kCopy);
    if (writers > 1) return fail(kExitUsage, "one writing option per run: a repair is one plan, checked as a whole");
    if (opt.writes() && opt.mode != Mode::kCheck && opt.mode != Mode::kEdit && opt.mode != Mode::kCopy)
      return fail(kExitUsage, "writing options go with -m check (the default), -m edit or -m copy");
    if (opt.mode == Mode::kEdit && !opt.offset == opt.field.empty())
      return fail(kExitUsage, "-m edit needs -O OFFSET or --field NAME (one of them)");
    if (opt.mode == Mode::kEdit && !opt.value) return fail(kExitUsage, "-m edit needs -V VALUE");
    if (opt.mode == Mode::kCopy && (!opt.offset || !opt.source || !opt.length))
      return fail(kExitUsage, "-m copy needs -O DST, -S SRC and -L LENGTH");
    if ((opt.dry_run || opt.destructive || !opt.journal.empty()) && !opt.writes())
      return fail(kExitUsage, "--dry-run, --destructive and --journal go with a DANGEROUS option");
    if (opt.writes() && opt.force_share) return fail(kExitUsage, "-U cannot go with a repair: it never writes an image in use");
  }
  if (opt.json() && opt.mode != Mode::kCheck && opt.mode != Mode::kError)
    return fail(kExitUsage, "--output=json goes with -m check or -m error");
  if (!opt.header_layout && opt.image.empty())
    return fail(kExitUsage, "no IMAGE given (see --help)");
  return std::nullopt;
}

}  // namespace qcow2::cli
