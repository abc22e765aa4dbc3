// Test support implementation. Commands run through fork/exec, never a shell, so file names
// and qemu-io command strings need no quoting.
#include "tests/support/fixtures.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>
#include <gtest/gtest.h>

#ifndef QCOW2_DUMP_BIN
#error "QCOW2_DUMP_BIN must name the built qcow2-dump (tests/CMakeLists.txt sets it)"
#endif
#ifndef QCOW2_POKE_BIN
#error "QCOW2_POKE_BIN must name the built qcow2-poke (tests/CMakeLists.txt sets it)"
#endif

namespace qcow2::test {
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    s += items[i];
  }
  return s;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// The directory QEMU should run in for this image: data_file names resolve against it.
std::string dir_of(const std::string& path) {
  fs::path p = fs::path(absolute_path(path)).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Fails the test with the command's story; returns false for `return fail(r)`.
bool fail(const CommandResult& r, const std::string& context = "") {
  ADD_FAILURE() << (context.empty() ? "" : context + ": ") << r.describe();
  return false;
}

}  // namespace

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp && *tmp) ? tmp : "/tmp";
  std::string tmpl = base + "/qcow2fs-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error(
        fmt::format("mkdtemp({}) failed: {}", tmpl, std::strerror(errno)));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  const char* keep = std::getenv("QCOW2_KEEP_TEMP");
  if (keep && *keep && std::string(keep) != "0") {
    std::fprintf(stderr, "[qcow2 test] keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);  // a destructor cannot fail the test usefully; leave it
}

std::string CommandResult::describe() const {
  std::string status;
  if (timed_out) {
    status = "timed out and was killed";
  } else if (exit_code > 128 && exit_code < 128 + 65) {
    status = fmt::format("was killed by signal {} ({})", exit_code - 128,
                         strsignal(exit_code - 128));
  } else {
    status = fmt::format("exited {}", exit_code);
  }
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    constexpr size_t kMax = 4000;  // keep failure messages readable
    if (s.size() > kMax) s = s.substr(0, kMax) + "\n[... cut]";
    return s;
  };
  std::string msg = fmt::format("`{}` {}", command, status);
  msg += err.empty() ? "; stderr empty" : "; stderr:\n" + trim(err);
  if (!out.empty() && out.size() < 2000) msg += "\nstdout:\n" + trim(out);
  return msg;
}

CommandResult run(const std::vector<std::string>& argv, const std::string& cwd,
                  int timeout_seconds) {
  CommandResult r;
  r.command = join(argv, " ");
  if (argv.empty()) {
    r.exit_code = 127;
    r.err = "run: empty argv";
    return r;
  }
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.exit_code = 127;
    r.err = fmt::format("run: cannot make pipes: {}", std::strerror(errno));
    close_fd(devnull);
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1]}) close_fd(*fd);
    return r;
  }

  pid_t pid = fork();
  if (pid < 0) {
    r.exit_code = 127;
    r.err = fmt::format("run: fork failed: {}", std::strerror(errno));
    close_fd(devnull);
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1]}) close_fd(*fd);
    return r;
  }
  if (pid == 0) {
    // Own process group, so a timeout kills whatever the command started too.
    setpgid(0, 0);
    dup2(devnull, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    auto say = [](const char* s) {
      ssize_t ignored = write(STDERR_FILENO, s, std::strlen(s));
      (void)ignored;
    };
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      say("run: cannot chdir to ");
      say(cwd.c_str());
      say("\n");
      _exit(127);
    }
    execvp(cargv[0], cargv.data());
    say("run: cannot execute ");
    say(cargv[0]);
    say(": ");
    say(std::strerror(errno));
    say("\n");
    _exit(127);
  }
  setpgid(pid, pid);  // also from here: whichever runs first wins the race, same result
  close_fd(devnull);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);

  // Read both pipes as data arrives so a child filling one pipe never blocks on it.
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  std::array<std::string*, 2> sinks{&r.out, &r.err};
  std::array<char, 65536> buf;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      if (!r.timed_out) {
        r.timed_out = true;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        // Give the pipes a moment to drain after the kill, then stop regardless.
        deadline = Clock::now() + std::chrono::seconds(5);
        continue;
      }
      break;
    }
    int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf.data(), buf.size());
      if (got > 0) {
        sinks[i]->append(buf.data(), static_cast<size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close_fd(fds[i].fd);
      }
    }
  }
  close_fd(out_pipe[0]);
  close_fd(err_pipe[0]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      r.exit_code = 127;
      r.err += fmt::format("\nrun: waitpid failed: {}", std::strerror(errno));
      return r;
    }
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  if (r.timed_out) {
    r.err += fmt::format("\nrun: killed after {} s", timeout_seconds);
  }
  return r;
}

std::string dump_bin() { return QCOW2_DUMP_BIN; }
std::string poke_bin() { return QCOW2_POKE_BIN; }

bool have_qemu_img() {
  static const bool have = run({"qemu-img", "--version"}, "", 30).ok() &&
                           run({"qemu-io", "--version"}, "", 30).ok();
  return have;
}

namespace {

bool create_image(const std::string& path, const std::string& size,
                  const std::vector<std::string>& options, const std::string& backing) {
  std::vector<std::string> argv{"qemu-img", "create", "-q", "-f", "qcow2"};
  if (!options.empty()) {
    argv.push_back("-o");
    argv.push_back(join(options, ","));
  }
  if (!backing.empty()) {
    argv.insert(argv.end(), {"-b", backing, "-F", "qcow2"});
  }
  argv.push_back(absolute_path(path));
  argv.push_back(size);
  CommandResult r = run(argv, dir_of(path));
  return r.ok() || fail(r, "creating " + path);
}

}  // namespace

bool make_image(const std::string& path, const std::string& size,
                const std::vector<std::string>& options) {
  return create_image(path, size, options, "");
}

bool qemu_io(const std::string& path, const std::vector<std::string>& commands,
             const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv{"qemu-io", "-f", "qcow2"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  for (const auto& c : commands) {
    argv.push_back("-c");
    argv.push_back(c);
  }
  argv.push_back(absolute_path(path));
  CommandResult r = run(argv, dir_of(path));
  if (!r.ok()) return fail(r);
  // Belt and braces: qemu-io 7.2 exits 1 on a failed command, older ones did not.
  for (const char* bad : {"Pattern verification failed", "write failed", "read failed"}) {
    if (r.out.find(bad) != std::string::npos || r.err.find(bad) != std::string::npos) {
      return fail(r, fmt::format("qemu-io reported \"{}\"", bad));
    }
  }
  return true;
}

CommandResult qemu_img(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv{"qemu-img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, cwd);
}

nlohmann::json qemu_img_json(const std::vector<std::string>& args, const std::string& cwd,
                             const std::vector<int>& ok_exit_codes) {
  if (args.empty()) {
    ADD_FAILURE() << "qemu_img_json: no subcommand";
    return nullptr;
  }
  std::vector<std::string> argv{"qemu-img", args[0], "--output=json"};
  argv.insert(argv.end(), args.begin() + 1, args.end());
  CommandResult r = run(argv, cwd);
  bool accepted = !r.timed_out && std::find(ok_exit_codes.begin(), ok_exit_codes.end(),
                                            r.exit_code) != ok_exit_codes.end();
  if (!accepted) {
    fail(r);
    return nullptr;
  }
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    fail(r, "stdout is not JSON");
    return nullptr;
  }
  return j;
}

namespace {
bool keep_pristine = false;

void save_pristine(const std::string& path) {
  if (!keep_pristine || std::filesystem::exists(pristine_of(path))) return;
  CommandResult r = run({"cp", "--sparse=always", "--", path, pristine_of(path)});
  if (!r.ok()) fail(r);
}
}  // namespace

void keep_pristine_copies(bool on) { keep_pristine = on; }
std::string pristine_of(const std::string& path) { return path + ".pristine"; }

bool poke(const std::string& path, uint64_t offset, unsigned width, uint64_t value) {
  save_pristine(path);
  CommandResult r = run({poke_bin(), path, std::to_string(offset), std::to_string(width),
                         std::to_string(value)});
  return r.ok() || fail(r);
}

uint64_t peek(const std::string& path, uint64_t offset, unsigned width) {
  CommandResult r = run({poke_bin(), path, std::to_string(offset), std::to_string(width)});
  if (!r.ok()) {
    fail(r);
    return 0;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(r.out.c_str(), &end, 16);
  if (errno != 0 || end == r.out.c_str() || r.out.rfind("0x", 0) != 0) {
    fail(r, "qcow2-poke printed no 0x value");
    return 0;
  }
  return v;
}

bool fill(const std::string& path, uint64_t offset, uint64_t length, uint8_t byte) {
  save_pristine(path);
  CommandResult r = run({poke_bin(), path, "--fill", std::to_string(offset),
                         std::to_string(length), std::to_string(byte)});
  return r.ok() || fail(r);
}

bool truncate_file(const std::string& path, uint64_t length) {
  save_pristine(path);
  CommandResult r = run({poke_bin(), path, "--truncate", std::to_string(length)});
  return r.ok() || fail(r);
}

std::string sha256_file(const std::string& path) {
  CommandResult r = run({"sha256sum", "--", path});
  if (!r.ok()) {
    fail(r);
    return "";
  }
  std::string hash = r.out.substr(0, r.out.find_first_of(" \n"));
  if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
    fail(r, "sha256sum printed no hash");
    return "";
  }
  return hash;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path << ": " << std::strerror(errno);
    return {};
  }
  const std::streamsize size = in.tellg();
  std::vector<uint8_t> bytes(static_cast<size_t>(size < 0 ? 0 : size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return bytes;
}

bool export_raw(const std::string& image, const std::string& raw_path,
                const std::string& snapshot) {
  std::vector<std::string> argv{"qemu-img", "convert", "-f", "qcow2", "-O", "raw"};
  if (!snapshot.empty()) {
    argv.push_back("-l");
    argv.push_back("snapshot.name=" + snapshot);
  }
  argv.push_back(absolute_path(image));
  argv.push_back(absolute_path(raw_path));
  CommandResult r = run(argv, dir_of(image));
  return r.ok() || fail(r);
}

CommandResult run_dump(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv{dump_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, cwd);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

namespace {

uint64_t parse_size(const std::string& s) {
  size_t pos = 0;
  uint64_t n = std::stoull(s, &pos);
  switch (pos < s.size() ? s[pos] : '\0') {
    case 'k': case 'K': return n << 10;
    case 'M': return n << 20;
    case 'G': return n << 30;
    default: return n;
  }
}

FixtureSpec spec(std::string name, std::string size, std::vector<std::string> options) {
  FixtureSpec f;
  f.name = std::move(name);
  f.virtual_size = parse_size(size);
  f.size = std::move(size);
  f.create_options = std::move(options);
  return f;
}

// 1 MiB of bytes drawn from 16 letters: about half compressible, so a compressed 64 KiB
// cluster takes ~70 sectors and its descriptor's sector count matters. Deterministic so
// fixture hashes are stable.
bool ensure_source_file(const TempDir& dir) {
  std::string path = dir.file(kSourceFile);
  std::error_code ec;
  if (fs::exists(path, ec)) return true;
  std::string data(1 << 20, '\0');
  uint32_t x = 0x9e3779b9;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + (x & 15));
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) {
      ADD_FAILURE() << "cannot write " << tmp;
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    ADD_FAILURE() << "cannot rename " << tmp << ": " << ec.message();
    return false;
  }
  return true;
}

}  // namespace

std::vector<FixtureSpec> standard_fixtures() {
  std::vector<FixtureSpec> all;

  {
    // Version 2: no zero flag, so no `write -z`. A snapshot covers the v2 snapshot table.
    FixtureSpec f = spec("v2", "64M", {"compat=0.10"});
    f.version = 2;
    f.io_commands = {"write -P 0x11 0 64k", "write -P 0x12 1M 4k", "write -P 0x13 33M 128k",
                     "write -P 0x14 63M 64k"};
    f.snapshots = {{"s1", {"write -P 0x15 0 4k"}}};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("v3_default", "64M", {});
    f.io_commands = {"write -P 0x21 0 64k",    "write -P 0x22 1M 4k",
                     "write -P 0x23 33M 128k", "write -P 0x24 63M 64k",
                     "write -z 8M 64k",  // unallocated -> zero flag, no host cluster
                     "write -P 0x25 9M 64k",   "write -z 9M 64k",  // allocated -> zero flag kept
                     "write -P 0x26 40M 64k",  "discard 40M 64k"};  // a freed hole in the file
    all.push_back(f);
  }
  {
    // 64 entries per L2 table: one L1 entry maps 32 KiB, so these writes use several.
    FixtureSpec f = spec("cluster_512", "16M", {"cluster_size=512"});
    f.cluster_bits = 9;
    f.io_commands = {"write -P 0x31 0 4k", "write -P 0x32 100k 1k", "write -P 0x33 5M 512",
                     "write -P 0x34 15M 8k", "write -z 6M 2k"};
    all.push_back(f);
  }
  {
    // 512 entries per L2 table: one L1 entry maps 2 MiB.
    FixtureSpec f = spec("cluster_4k", "64M", {"cluster_size=4096"});
    f.cluster_bits = 12;
    f.io_commands = {"write -P 0x41 0 16k",  "write -P 0x42 3M 4k",    "write -P 0x43 17M 8k",
                     "write -P 0x44 63M 4k", "write -P 0x45 2050k 1k", "write -z 20M 8k"};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("cluster_2m", "256M", {"cluster_size=2M"});
    f.cluster_bits = 21;
    f.io_commands = {"write -P 0x51 0 64k", "write -P 0x52 100M 2M", "write -P 0x53 254M 2M",
                     "write -z 128M 2M"};
    all.push_back(f);
  }
  for (uint32_t order : {0U, 2U, 4U, 6U}) {
    const uint32_t bits = 1U << order;
    FixtureSpec f = spec(fmt::format("refcount_{}", bits), "64M",
                         {fmt::format("refcount_bits={}", bits)});
    f.refcount_order = order;
    f.io_commands = {"write -P 0x61 0 64k", "write -P 0x62 5M 128k", "write -P 0x63 50M 64k"};
    // A snapshot makes shared clusters count 2 (one bit cannot hold that).
    if (bits >= 2) f.snapshots = {{"s1", {"write -P 0x64 0 64k"}}};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("snapshots", "64M", {});
    f.io_commands = {"write -P 0x71 0 128k", "write -P 0x72 5M 64k"};
    f.snapshots = {{"s1", {"write -P 0x73 0 64k", "write -P 0x74 10M 64k"}},
                   {"s2", {"write -P 0x75 64k 64k", "discard 5M 64k", "write -z 10M 64k"}}};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("backing", "64M", {});
    f.with_backing = true;
    f.backing_io_commands = {"write -P 0x81 0 1M", "write -P 0x82 8M 64k"};
    // 8M 4k: a partial write that copies the rest of the cluster up from the backing file;
    // write -z over backing data must become a zero cluster, not unallocated.
    f.io_commands = {"write -P 0x83 64k 64k", "write -P 0x84 8M 4k", "write -z 512k 64k"};
    all.push_back(f);
  }
  for (const char* type : {"zlib", "zstd"}) {
    FixtureSpec f = spec(fmt::format("{}_compressed", type), "64M", {});
    if (std::string(type) == "zstd") {
      f.create_options = {"compression_type=zstd"};
      f.compression_type = CompressionType::kZstd;
    }
    f.compressed = true;
    // One cluster per command: multi-cluster compressed writes lay out unpredictably.
    // Pattern clusters compress to a few dozen bytes and share host clusters and sectors;
    // source.bin clusters span many sectors.
    f.io_commands = {"write -c -P 0x5a 0 64k",     fmt::format("write -c -s {} 64k 64k", kSourceFile),
                     "write -c -P 0x5b 128k 64k",  fmt::format("write -c -s {} 192k 64k", kSourceFile),
                     "write -P 0x91 1M 64k",       "write -c -P 0x5c 2M 64k"};
    all.push_back(f);
  }
  {
    // 2 KiB subclusters. Partial writes and zeroes leave mixed allocation/zero bitmaps.
    FixtureSpec f = spec("extended_l2_64k", "64M", {"extended_l2=on"});
    f.extended_l2 = true;
    f.io_commands = {"write -P 0xa1 0 4k",  "write -P 0xa2 8k 4k", "write -P 0xa3 64k 64k",
                     "write -z 80k 4k",     "write -P 0xa4 1M 2k", "write -z 2M 64k",
                     "write -z 3M 4k"};
    all.push_back(f);
  }
  {
    // 4 KiB subclusters.
    FixtureSpec f = spec("extended_l2_128k", "64M", {"extended_l2=on", "cluster_size=128k"});
    f.extended_l2 = true;
    f.cluster_bits = 17;
    f.io_commands = {"write -P 0xb1 0 4k",      "write -P 0xb2 20k 8k", "write -P 0xb3 128k 128k",
                     "write -z 132k 8k",        "write -z 4M 128k",     "write -z 5M 4k",
                     "write -P 0xb4 6268k 4k"};  // the last subcluster of its cluster
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("data_file", "64M", {"data_file=data_file.data"});
    f.data_file = true;
    f.io_commands = {"write -P 0xc1 0 64k", "write -P 0xc2 1M 4k", "write -P 0xc3 10M 128k",
                     "write -z 20M 64k"};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("bitmap", "64M", {});
    f.with_bitmap = true;
    f.io_commands = {"write -P 0xd1 0 64k", "write -P 0xd2 6M 64k"};
    f.bitmap_io_commands = {"write -P 0xd3 2M 128k", "write -P 0xd4 40M 64k"};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("prealloc_metadata", "64M", {"preallocation=metadata"});
    f.preallocation = "metadata";
    f.io_commands = {"write -P 0xe1 0 64k", "write -P 0xe2 30M 4k"};
    all.push_back(f);
  }
  {
    FixtureSpec f = spec("prealloc_full", "64M", {"preallocation=full"});
    f.preallocation = "full";
    f.io_commands = {"write -P 0xf1 1M 64k"};
    all.push_back(f);
  }
  return all;
}

FixtureSpec standard_fixture(const std::string& name) {
  for (auto& f : standard_fixtures()) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "no standard fixture named '" << name << "'";
  return {};
}

std::string build_fixture(const TempDir& dir, const FixtureSpec& spec) {
  auto uses_source = [](const std::vector<std::string>& cmds) {
    for (const auto& c : cmds) {
      if (c.find(kSourceFile) != std::string::npos) return true;
    }
    return false;
  };
  bool need_source = uses_source(spec.io_commands) || uses_source(spec.backing_io_commands) ||
                     uses_source(spec.bitmap_io_commands);
  for (const auto& s : spec.snapshots) need_source = need_source || uses_source(s.then_io);
  if (need_source && !ensure_source_file(dir)) return "";

  const std::string image = dir.file(spec.image_name());
  std::string backing;
  if (spec.with_backing) {
    const std::string base = dir.file(spec.backing_name());
    if (!make_image(base, spec.backing_size.empty() ? spec.size : spec.backing_size)) return "";
    if (!spec.backing_io_commands.empty() && !qemu_io(base, spec.backing_io_commands)) return "";
    backing = spec.backing_name();  // relative: QEMU resolves it beside the overlay
  }
  if (!create_image(image, spec.size, spec.create_options, backing)) return "";
  if (!spec.io_commands.empty() && !qemu_io(image, spec.io_commands)) return "";
  for (const auto& snap : spec.snapshots) {
    CommandResult r = qemu_img({"snapshot", "-c", snap.name, image}, dir.path());
    if (!r.ok()) {
      fail(r, fmt::format("fixture {}: snapshot {}", spec.name, snap.name));
      return "";
    }
    if (!snap.then_io.empty() && !qemu_io(image, snap.then_io)) return "";
  }
  if (spec.with_bitmap) {
    CommandResult r = qemu_img({"bitmap", "--add", image, kBitmapName}, dir.path());
    if (!r.ok()) {
      fail(r, fmt::format("fixture {}: bitmap", spec.name));
      return "";
    }
    if (!spec.bitmap_io_commands.empty() && !qemu_io(image, spec.bitmap_io_commands)) return "";
  }
  return image;
}

void PrintTo(const FixtureSpec& spec, std::ostream* os) { *os << spec.name; }

}  // namespace qcow2::test
