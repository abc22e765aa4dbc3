// Test support: temporary directories, running tools without a shell, and qcow2 fixtures made
// by QEMU's own tools so that tests compare our decoding against images QEMU really writes.
//
// Every helper that runs a command fails the current test (ADD_FAILURE) with the command line,
// its exit status and its stderr when the command fails, and also returns a value the caller
// can ASSERT on to stop early. run(), qemu_img() and run_dump() never assert: their callers
// judge the exit code.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/format/header.h"

namespace qcow2::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// Set QCOW2_KEEP_TEMP=1 in the environment to keep it for a post-mortem.
class TempDir {
 public:
  TempDir();  // throws std::runtime_error if the directory cannot be made
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name; does not create anything.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // the exit status; 128+N when killed by signal N; 127 when exec failed
  std::string out;
  std::string err;
  bool timed_out = false;  // killed after the timeout
  std::string command;     // the argv joined with spaces, for messages

  bool ok() const { return exit_code == 0 && !timed_out; }
  // One paragraph for failure messages: command, exit status, stderr (and stdout if short).
  std::string describe() const;
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null and stdout/stderr captured
// separately. No shell. cwd: directory to run in ("" = ours). The process (and its process
// group) is killed after timeout_seconds and the result says so.
CommandResult run(const std::vector<std::string>& argv, const std::string& cwd = "",
                  int timeout_seconds = 120);

// Paths of the binaries built with the tests.
std::string dump_bin();
std::string poke_bin();

// True when both qemu-img and qemu-io can be run (checked once).
bool have_qemu_img();

// Skips the current test when QEMU's tools are missing.
#define QCOW2_SKIP_WITHOUT_QEMU()                                          \
  do {                                                                     \
    if (!::qcow2::test::have_qemu_img()) {                                 \
      GTEST_SKIP() << "qemu-img / qemu-io are not installed";              \
    }                                                                      \
  } while (0)

// qemu-img create -f qcow2 [-o options joined with commas] path size, run in path's directory
// (so a relative data_file= or backing name lands beside the image).
bool make_image(const std::string& path, const std::string& size,
                const std::vector<std::string>& options = {});

// qemu-io -f qcow2 [extra_args] -c CMD... IMAGE, run in the image's directory (a relative
// data_file name resolves against the working directory, unlike a backing name). Fails the
// test when qemu-io exits non-zero (a failed command or pattern check makes it exit 1).
bool qemu_io(const std::string& path, const std::vector<std::string>& commands,
             const std::vector<std::string>& extra_args = {});

// qemu-img with args, run in cwd; no assertion.
CommandResult qemu_img(const std::vector<std::string>& args, const std::string& cwd = "");

// qemu-img args[0] --output=json args[1..], run in cwd, stdout parsed. Fails the test and
// returns null when the exit code is not in ok_exit_codes or stdout is not JSON. (`check`
// exits 2 for corruption and 3 for leaks with valid JSON: pass those codes to accept them.)
nlohmann::json qemu_img_json(const std::vector<std::string>& args, const std::string& cwd = "",
                             const std::vector<int>& ok_exit_codes = {0});

// Byte poking through the built qcow2-poke: writes `value` big-endian in `width` (1, 2, 4, 8)
// bytes at `offset`; peek returns the value there (0 after failing the test).
bool poke(const std::string& path, uint64_t offset, unsigned width, uint64_t value);
// When on (the repair tests turn it on), poke, fill and truncate_file first copy a file they
// have not damaged yet to PATH.pristine: the image as it was before the damage, whatever
// recipe made it, to compare a repair's result with.
void keep_pristine_copies(bool on);
std::string pristine_of(const std::string& path);
uint64_t peek(const std::string& path, uint64_t offset, unsigned width);
bool fill(const std::string& path, uint64_t offset, uint64_t length, uint8_t byte);
bool truncate_file(const std::string& path, uint64_t length);

// Lower-case hex SHA-256 of a file's bytes (via sha256sum); "" after failing the test.
std::string sha256_file(const std::string& path);

// The whole file; empty after failing the test.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Guest view as a raw file via `qemu-img convert -O raw` (of a snapshot when named), run in
// the image's directory. For comparing our reads with QEMU's.
bool export_raw(const std::string& image, const std::string& raw_path,
                const std::string& snapshot = "");

// Runs the built qcow2-dump with args; no assertion.
CommandResult run_dump(const std::vector<std::string>& args, const std::string& cwd = "");

// An internal snapshot taken (qemu-img snapshot -c) after the writes before it.
struct SnapshotSpec {
  std::string name;
  std::vector<std::string> then_io;  // qemu-io -c commands run after taking it
};

// One fixture image and how it is built. build_fixture() does, in the fixture directory:
//   1. if with_backing: create backing_name() (qcow2, backing_size or size) and run
//      backing_io_commands on it;
//   2. qemu-img create -f qcow2 -o create_options [-b backing_name() -F qcow2] image_name() size;
//   3. qemu-io io_commands;
//   4. for each snapshot: qemu-img snapshot -c NAME, then qemu-io its then_io;
//   5. if with_bitmap: qemu-img bitmap --add image b0, then qemu-io bitmap_io_commands (these
//      writes leave dirty bits in the stored bitmap).
// Commands may use `-s source.bin` (kSourceFile, made beside the image): 1 MiB of
// deterministic, partly compressible bytes, so compressed clusters span several sectors.
// The expectation fields must agree with create_options; the fixture self-test checks them
// against qemu-img info.
struct FixtureSpec {
  std::string name;                         // file stem; also the gtest parameter name
  std::string size = "64M";                 // virtual size as qemu-img reads it
  uint64_t virtual_size = 64ULL << 20;      // the same in bytes
  std::vector<std::string> create_options;  // -o items (key=value), joined with commas
  std::vector<std::string> io_commands;     // qemu-io -c commands run right after creation
  std::vector<SnapshotSpec> snapshots;      // in the order they are taken
  bool with_backing = false;
  std::string backing_size;                 // "" = size
  std::vector<std::string> backing_io_commands;
  bool with_bitmap = false;                 // persistent bitmap kBitmapName
  std::vector<std::string> bitmap_io_commands;
  bool compressed = false;                  // has compressed clusters
  bool data_file = false;                   // external data file data_file_name()

  // Expectations (what the header should say).
  uint32_t version = 3;
  uint32_t cluster_bits = 16;
  uint32_t refcount_order = 4;
  bool extended_l2 = false;
  CompressionType compression_type = CompressionType::kZlib;
  std::string preallocation;  // "", "metadata" or "full"

  uint64_t cluster_size() const { return uint64_t{1} << cluster_bits; }
  uint32_t refcount_bits() const { return 1U << refcount_order; }
  std::string image_name() const { return name + ".qcow2"; }
  std::string backing_name() const { return name + ".base.qcow2"; }
  std::string data_file_name() const { return name + ".data"; }
};

inline constexpr const char* kSourceFile = "source.bin";
inline constexpr const char* kBitmapName = "b0";

// The variants tests iterate over. Names: v2, v3_default, cluster_512, cluster_4k, cluster_2m,
// refcount_1, refcount_4, refcount_16, refcount_64, snapshots, backing, zlib_compressed,
// zstd_compressed, extended_l2_64k, extended_l2_128k, data_file, bitmap, prealloc_metadata,
// prealloc_full.
std::vector<FixtureSpec> standard_fixtures();

// Finds a standard fixture by name; fails the test (and returns a default spec) if none.
FixtureSpec standard_fixture(const std::string& name);

// Builds the fixture in dir; returns the image's path, or "" after failing the test.
// Several fixtures may share a directory (their file names differ).
std::string build_fixture(const TempDir& dir, const FixtureSpec& spec);

// gtest prints a parameter with this (just the name, not the struct's bytes).
void PrintTo(const FixtureSpec& spec, std::ostream* os);

// For INSTANTIATE_TEST_SUITE_P(..., ValuesIn(standard_fixtures()), FixtureName()).
struct FixtureName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return info.param.name;
  }
};

}  // namespace qcow2::test
