// qcow2-poke: reads or overwrites raw bytes of a file so tests can damage images on purpose.
// Kept free of the engine (and of any library) so that a bug in the decoder cannot hide a
// bug in the damage a test meant to do.
//
//   qcow2-poke IMAGE OFFSET WIDTH VALUE      write VALUE big-endian in WIDTH (1,2,4,8) bytes
//   qcow2-poke IMAGE OFFSET WIDTH            print the big-endian value there as 0x-hex
//   qcow2-poke IMAGE --fill OFFSET LENGTH BYTE
//   qcow2-poke IMAGE --truncate LENGTH
//
// Numbers are decimal or 0x-hex. Exit 0 on success, 2 on usage errors, 1 on I/O errors.
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr int kUsage = 2;
constexpr int kIoError = 1;

int usage(const char* why) {
  std::fprintf(stderr,
               "qcow2-poke: %s\n"
               "usage: qcow2-poke IMAGE OFFSET WIDTH [VALUE]\n"
               "       qcow2-poke IMAGE --fill OFFSET LENGTH BYTE\n"
               "       qcow2-poke IMAGE --truncate LENGTH\n",
               why);
  return kUsage;
}

int io_error(const std::string& what, const std::string& path) {
  std::fprintf(stderr, "qcow2-poke: %s %s: %s\n", what.c_str(), path.c_str(),
               std::strerror(errno));
  return kIoError;
}

// Strict: the whole text must be a number (no sign, no trailing bytes), decimal or 0x-hex.
std::optional<uint64_t> parse_number(const std::string& s) {
  if (s.empty() || s[0] == '-' || s[0] == '+' || s[0] == ' ') return std::nullopt;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, hex ? 16 : 10);
  if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
  return static_cast<uint64_t>(v);
}

// pwrite until everything is written (regular files rarely write short, but may).
bool write_all(int fd, const uint8_t* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return true;
}

int do_read(const std::string& path, uint64_t offset, unsigned width) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  uint8_t buf[8];
  size_t got = 0;
  while (got < width) {
    ssize_t r = pread(fd, buf + got, width - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return io_error("cannot read", path);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  close(fd);
  if (got < width) {
    std::fprintf(stderr, "qcow2-poke: %s: %u bytes at offset %" PRIu64 " run past end of file\n",
                 path.c_str(), width, offset);
    return kIoError;
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v = (v << 8) | buf[i];
  std::printf("0x%" PRIx64 "\n", v);
  return 0;
}

int do_write(const std::string& path, uint64_t offset, unsigned width, uint64_t value) {
  uint8_t buf[8];
  for (unsigned i = width; i-- > 0; value >>= 8) buf[i] = static_cast<uint8_t>(value);
  // No O_CREAT: poking a file that does not exist is a test bug, not something to paper over.
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  if (!write_all(fd, buf, width, offset)) {
    int e = errno;
    close(fd);
    errno = e;
    return io_error("cannot write", path);
  }
  if (close(fd) != 0) return io_error("cannot close", path);
  return 0;
}

int do_fill(const std::string& path, uint64_t offset, uint64_t length, uint8_t byte) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  std::vector<uint8_t> chunk(static_cast<size_t>(length < (1u << 20) ? length : (1u << 20)), byte);
  uint64_t done = 0;
  while (done < length) {
    size_t n = static_cast<size_t>(length - done < chunk.size() ? length - done : chunk.size());
    if (!write_all(fd, chunk.data(), n, offset + done)) {
      int e = errno;
      close(fd);
      errno = e;
      return io_error("cannot write", path);
    }
    done += n;
  }
  if (close(fd) != 0) return io_error("cannot close", path);
  return 0;
}

int do_truncate(const std::string& path, uint64_t length) {
  if (truncate(path.c_str(), static_cast<off_t>(length)) != 0) return io_error("cannot truncate", path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) return usage("missing arguments");
  const std::string& path = args[0];
  constexpr uint64_t kMaxOffset = uint64_t{1} << 62;  // keeps off_t arithmetic from overflowing

  if (args[1] == "--fill") {
    if (args.size() != 5) return usage("--fill takes OFFSET LENGTH BYTE");
    auto off = parse_number(args[2]);
    auto len = parse_number(args[3]);
    auto byte = parse_number(args[4]);
    if (!off || *off > kMaxOffset) return usage(("bad OFFSET '" + args[2] + "'").c_str());
    if (!len || *len > kMaxOffset) return usage(("bad LENGTH '" + args[3] + "'").c_str());
    if (!byte || *byte > 0xff) return usage(("bad BYTE '" + args[4] + "' (0..255)").c_str());
    return do_fill(path, *off, *len, static_cast<uint8_t>(*byte));
  }
  if (args[1] == "--truncate") {
    if (args.size() != 3) return usage("--truncate takes LENGTH");
    auto len = parse_number(args[2]);
    if (!len || *len > kMaxOffset) return usage(("bad LENGTH '" + args[2] + "'").c_str());
    return do_truncate(path, *len);
  }
  if (args[1].rfind("--", 0) == 0) return usage(("unknown option '" + args[1] + "'").c_str());

  if (args.size() != 3 && args.size() != 4) return usage("expected OFFSET WIDTH [VALUE]");
  auto off = parse_number(args[1]);
  auto width = parse_number(args[2]);
  if (!off || *off > kMaxOffset) return usage(("bad OFFSET '" + args[1] + "'").c_str());
  if (!width || (*width != 1 && *width != 2 && *width != 4 && *width != 8)) {
    return usage(("bad WIDTH '" + args[2] + "' (1, 2, 4 or 8)").c_str());
  }
  const unsigned w = static_cast<unsigned>(*width);
  if (args.size() == 3) return do_read(path, *off, w);

  auto value = parse_number(args[3]);
  if (!value) return usage(("bad VALUE '" + args[3] + "'").c_str());
  if (w < 8 && (*value >> (8 * w)) != 0) {
    return usage(("VALUE '" + args[3] + "' does not fit in " + args[2] + " bytes").c_str());
  }
  return do_write(path, *off, w, *value);
}
