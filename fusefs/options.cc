#include "fusefs/options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

namespace qcow2fs {
namespace {

constexpr const char* kFooter = R"(
Options given with -o (comma-separated, -o may repeat):
  ro            read-only mount (the default): every change fails with EROFS
  rw            read-write mount: the control files of ctl/ repair the image (see
                ctl/README); every other file stays read-only (EACCES)
  allow_other   let other users see the mount (needs user_allow_other for non-root)
  max_open_text=SIZE
                text that open files may pin (default 512M; K, M, G suffixes); past it
                open fails with ENOMEM
  other         passed to libfuse (e.g. fsname=..., max_read=...)
auto_unmount and default_permissions are always on.

Exit status: 0 unmounted cleanly, 64 usage, 65 not a qcow2 image, 66 cannot open the image,
71 the mount failed, 75 a running VM writes the image (see -U). See man qcow2fs.)";

void split_into(const std::string& list, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

// "512M", "1G", "4096": bytes, with binary K, M, G suffixes.
std::optional<size_t> parse_size(const std::string& s) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return std::nullopt;  // stoull takes "-1"
  size_t end = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(s, &end, 10);
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = s.substr(end);
  int shift = 0;
  if (unit == "K" || unit == "k") shift = 10;
  else if (unit == "M" || unit == "m") shift = 20;
  else if (unit == "G" || unit == "g") shift = 30;
  else if (!unit.empty()) return std::nullopt;
  if (v > (~0ULL >> shift)) return std::nullopt;
  return static_cast<size_t>(v << shift);
}

// The value of "name=value" when `item` starts with "name=".
std::optional<std::string> value_of(const std::string& item, const std::string& name) {
  if (item.rfind(name + "=", 0) != 0) return std::nullopt;
  return item.substr(name.size() + 1);
}

}  // namespace

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "qcow2fs: %s\n", message.c_str());
  return code;
}

std::optional<int> parse_options(int argc, char** argv, Options& opt) {
  CLI::App app{"Mounts a qcow2 image's metadata as a tree of text files, read-only by default.",
               "qcow2fs"};
  std::vector<std::string> o_lists;
  app.add_option("image", opt.image, "the qcow2 image (opened read-only)")->required();
  app.add_option("mountpoint", opt.mountpoint, "an existing directory")->required();
  app.add_flag("-f,--foreground", opt.foreground, "stay in the foreground");
  app.add_flag("-d,--debug", opt.debug, "print every FUSE request (implies -f)");
  app.add_flag("-b,--base", opt.base, "do not require the backing file to exist");
  app.add_flag("-U,--force-share", opt.force_share,
               "mount even while a running VM writes the image (its metadata may be torn)");
  app.add_option("-o", o_lists, "mount options: ro (default), rw, allow_other, or any libfuse option")
      ->allow_extra_args(false)  // one list per -o: "-o ro IMAGE MNT" keeps its positionals
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  // -v as well, as qcow2-dump (and the well-known tool) spell it.
  app.set_version_flag("-V,-v,--version", "qcow2fs " QCOW2FS_VERSION);
  app.footer(kFooter);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(kExitUsage, fmt::format("{} (see --help)", e.what()));
  }
  if (opt.debug) opt.foreground = true;
  std::vector<std::string> items;
  for (const std::string& l : o_lists) split_into(l, items);
  for (const std::string& item : items) {
    if (item == "ro")
      opt.read_only = true;
    else if (item == "rw")
      opt.read_only = false;
    else if (item == "allow_other")
      opt.allow_other = true;
    else if (item == "auto_unmount" || item == "default_permissions")
      continue;  // always on
    else if (auto size = value_of(item, "max_open_text"))
      opt.max_open_text = parse_size(*size).value_or(0);
    else if (auto path = value_of(item, "test_hold_check"))
      opt.test_hold_check = *path;
    else if (auto hold = value_of(item, "test_hold_repair"))
      opt.test_hold_repair = *hold;
    else if (item == "test_fail_check")
      opt.test_fail_check = true;
    else
      opt.passthrough.push_back(item);
    if (opt.max_open_text == 0)  // this item's size was bad (or 0, which no file fits in)
      return fail(kExitUsage, fmt::format("-o {}: not a size such as 512M (see --help)", item));
  }
  return std::nullopt;
}

}  // namespace qcow2fs
