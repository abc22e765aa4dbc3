#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

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
  75  the image is in use: a running VM holds QEMU's write lock (-U inspects it anyway)

The image is always opened read-only.)";

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
  return std::nullopt;
}

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kInfo: return "info";
    case Mode::kCheck: return "check";
    case Mode::kError: return "error";
    case Mode::kDump: return "dump";
  }
  return "?";
}

bool Options::color(bool stdout_is_tty) const {
  if (display == "color") return true;
  if (display == "off" || display == "none") return false;
  return stdout_is_tty && mode != Mode::kDump;
}

std::optional<int> parse_options(int argc, char** argv, Options& opt) {
  CLI::App app{"Shows the structure of a qcow2 image, read-only.", "qcow2-dump"};
  app.formatter(std::make_shared<UsageFormatter>());
  std::string mode = "check";
  app.add_option("-m,--mode", mode, "info | check | error | dump (default: check)")
      ->check(CLI::IsMember({"info", "check", "error", "dump"}));
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
  if (opt.json() && opt.mode != Mode::kCheck && opt.mode != Mode::kError)
    return fail(kExitUsage, "--output=json goes with -m check or -m error");
  if (!opt.header_layout && opt.image.empty())
    return fail(kExitUsage, "no IMAGE given (see --help)");
  return std::nullopt;
}

}  // namespace qcow2::cli
