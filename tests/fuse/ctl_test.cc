// The repairs of a read-write mount (-o rw), through the control files of ctl/, mounted for
// real: every kind of command on an image with known guest data (in snapshots too), damaged
// with qcow2-poke. After each, the write() that carried it succeeded, the mount's files show
// the new state at once, qemu-img check calls the image clean, the guest (and every kept
// snapshot) reads what it read before the damage, a second dry run plans nothing, and the
// undo journal, written to ctl/undo, puts the damaged bytes back exactly. Refusals answer the
// errno the manual promises, say why in ctl/error and write nothing.
//
// No sleeps stand in for an event: the command that must be running while another arrives is
// held by the mount's test hook (-o test_hold_repair) until a file exists, and every wait
// polls for a condition with a generous deadline.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "engine/format/header.h"
#include "tests/check/damage_recipes.h"
#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/process_probe.h"
#include "tests/fuse/tree_files.h"
#include "tests/repair/repair_helpers.h"
#include "tests/support/qemu_holder.h"

namespace qcow2::test {
namespace {

using damage::kCluster;
using std::chrono::seconds;

constexpr int kShortWrite = -1;

// What `echo COMMAND > MNT/ctl/FILE` does, in system calls: open with O_CREAT and O_TRUNC, one
// write() of the line, close. 0 when the write took the whole line; else its errno (open's
// when the open failed; kShortWrite for a short write).
int ctl(const Mount& m, const std::string& file, const std::string& command) {
  const std::string line = command + "\n";
  const int fd = ::open(m.path("ctl/" + file).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = n < 0 ? errno : static_cast<size_t>(n) == line.size() ? 0 : kShortWrite;
  EXPECT_EQ(::close(fd), 0) << "a command's verdict is its write's, never close's";
  return err;
}

// `repair all` written on a thread of its own and held by the test hook until `hold` exists;
// released and joined at the latest when it goes out of scope, whatever the test does (the
// teardown's unmount would wait for it otherwise).
class HeldRepair {
 public:
  HeldRepair(const Mount& m, std::string hold)
      : hold_(std::move(hold)), writer_([this, &m] { result = ctl(m, "repair", "all"); }) {}
  ~HeldRepair() { release(); }
  void release() {
    std::ofstream(hold_).put('\n');
    if (writer_.joinable()) writer_.join();
  }
  std::atomic<int> result{-100};

 private:
  std::string hold_;
  std::thread writer_;
};

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The value column of a `header` row.
std::string header_value(const Mount& m, const std::string& field) {
  const auto r = row(m.read("header"), field);
  return r.size() > 1 ? r[1] : "";
}

// Guest data the same as in the copy taken before the damage (keep_pristine_copies): the active
// image with qemu-img compare, each of `snapshots` by the hash of what QEMU reads from it.
void expect_guest_as_pristine(const TempDir& dir, const std::string& image, const std::vector<std::string>& snapshots = {}) {
  const std::string pristine = pristine_of(image);
  ASSERT_TRUE(std::filesystem::exists(pristine));
  const CommandResult cmp = qemu_img({"compare", "-f", "qcow2", "-F", "qcow2", pristine, image}, dir.path());
  EXPECT_EQ(cmp.exit_code, 0) << "the guest reads what it read before the damage: " << cmp.describe() << cmp.out;
  for (const std::string& s : snapshots) {
    const std::string h = guest_hash(dir, image, s);
    EXPECT_FALSE(h.empty()) << s;
    EXPECT_EQ(h, guest_hash(dir, pristine, s)) << "snapshot " << s << " reads what it read before";
  }
}

// How many descriptors process `pid` holds on `image` open for writing (from /proc/PID/fdinfo).
int writable_descriptors(pid_t pid, const std::string& image) {
  int n = 0;
  const std::filesystem::path target = std::filesystem::canonical(image);
  const std::string fds = fmt::format("/proc/{}/fd", pid);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(fds, ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(e.path(), link_ec) != target) continue;
    std::ifstream info(fmt::format("/proc/{}/fdinfo/{}", pid, e.path().filename().string()));
    std::string key, value;
    while (info >> key >> value)
      if (key == "flags:" && (std::stoul(value, nullptr, 8) & O_ACCMODE) != O_RDONLY) ++n;
  }
  return n;
}

// Keeps a copy of `image` as its pristine one (pristine_of) for a test whose command is the
// damage: what expect_guest_as_pristine compares with.
void keep_copy(const std::string& image) {
  const CommandResult r = run({"cp", "--sparse=always", "--", image, pristine_of(image)});
  EXPECT_TRUE(r.ok()) << r.describe();
}

// Guest clusters 0..7 written with patterns 0x30..0x37, one cluster per command, so that QEMU
// lays them out one after the other.
std::string eight_clusters(const TempDir& dir) {
  std::vector<std::string> io;
  for (int i = 0; i < 8; ++i) io.push_back(fmt::format("write -P 0x{:x} {}k 64k", 0x30 + i, 64 * i));
  return damage::small_image(dir, {}, io);
}

// Snapshots alpha, beta, gamma (ids 1, 2, 3) with data rewritten before, between and after them,
// so that they share some clusters and not others. 8 MiB of guest: quick to hash.
std::string three_snapshots(const TempDir& dir, const std::vector<std::string>& options = {}) {
  const std::string p = dir.file("snaps.qcow2");
  if (!make_image(p, "8M", options)) return "";
  const std::vector<std::vector<std::string>> io = {
      {"write -P 0x11 0 64k", "write -P 0x12 1M 64k"},
      {"write -P 0x21 0 32k", "write -P 0x22 2M 64k"},
      {"write -P 0x31 16k 64k", "write -P 0x32 1M 8k"},
      {"write -P 0x41 3M 64k", "write -P 0x42 5M 64k"},
  };
  const char* names[] = {"alpha", "beta", "gamma"};
  for (size_t i = 0; i < io.size(); ++i) {
    if (!qemu_io(p, io[i])) return "";
    if (i < 3) {
      const CommandResult r = qemu_img({"snapshot", "-c", names[i], p}, dir.path());
      if (!r.ok()) {
        ADD_FAILURE() << r.describe();
        return "";
      }
    }
  }
  return p;
}

class CtlTest : public FuseTest {
 protected:
  void SetUp() override {
    FuseTest::SetUp();
    keep_pristine_copies(true);
  }
  void TearDown() override {
    keep_pristine_copies(false);
    FuseTest::TearDown();
  }

  // A read-write mount of `image` whose check is done.
  Mount& rw(const std::string& image, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"-o", "rw"};
    args.insert(args.end(), extra.begin(), extra.end());
    Mount& m = mount(image, fmt::format("mnt{}", mounts_.size()), args);
    if (m.ok()) m.wait_for_check();
    return m;
  }

  // Writes COMMAND to ctl/FILE and expects it applied: the write succeeded; ctl/error is
  // empty; ctl/last, ctl/journal and status's second line name the new journal beside the
  // image; status's first line (once the image has been checked again) is `want`. Returns the
  // journal ("" after failing the test).
  std::string apply(const Mount& m, const std::string& image, const std::string& file, const std::string& command,
                    const std::string& want = "good 0") {
    const size_t journals = journals_of(image).size();
    const int err = ctl(m, file, command);
    EXPECT_EQ(err, 0) << file << " " << command << ": " << std::strerror(err) << "; ctl/error: " << m.read("ctl/error");
    if (err != 0) return "";
    const std::vector<std::string> j = journals_of(image);
    EXPECT_EQ(j.size(), journals + 1) << "one journal more, beside the image";
    if (j.size() != journals + 1) return "";
    const std::string journal = j.back();
    EXPECT_EQ(m.read("ctl/error"), "");
    EXPECT_EQ(m.read("ctl/journal"), journal + "\n");
    const std::string last = m.read("ctl/last");
    EXPECT_TRUE(starts_with(last, file + " " + command + ": applied at ")) << last;
    EXPECT_TRUE(contains(last, "undo journal: " + journal + "\n")) << last;
    const std::vector<std::string> status = lines_of(m.wait_for_check());
    EXPECT_GE(status.size(), 2u);
    if (status.size() >= 2) {
      EXPECT_EQ(status[0], want) << "the image checked again after the repair";
      EXPECT_TRUE(starts_with(status[1], "repaired at ")) << status[1];
      EXPECT_TRUE(contains(status[1], "(ctl/" + file + " " + command + "); undo journal: " + journal)) << status[1];
    }
    return journal;
  }

  // A dry run of `all` now plans nothing and leaves that plan in ctl/plan.
  void expect_nothing_left(const Mount& m) {
    ASSERT_EQ(ctl(m, "repair", "plan all"), 0) << m.read("ctl/error");
    const std::string plan = m.read("ctl/plan");
    EXPECT_TRUE(starts_with(plan, "plan: repair all\n")) << plan;
    EXPECT_TRUE(contains(plan, "\nedits: 0\n")) << "a second plan is empty:\n" << plan;
    EXPECT_TRUE(contains(m.read("ctl/last"), "repair plan all: dry run at ")) << m.read("ctl/last");
  }

  // Unmounts `m` (cleanly) and expects qemu-img check to call the image clean.
  void unmount_clean(Mount& m, const std::string& image) {
    EXPECT_EQ(m.unmount(), 0) << m.log();
    expect_qemu_clean(image);
  }

  // On a new mount, `echo JOURNAL > ctl/undo`; the image is then byte for byte `want_sha`.
  void undo(const std::string& image, const std::string& journal, const std::string& want_sha) {
    ASSERT_FALSE(journal.empty());
    Mount& m = rw(image);
    ASSERT_TRUE(m.ok()) << m.error();
    const int err = ctl(m, "undo", journal);
    EXPECT_EQ(err, 0) << m.read("ctl/error");
    const std::string last = m.read("ctl/last");
    EXPECT_TRUE(starts_with(last, "undo " + journal + ": applied at ")) << last;
    EXPECT_TRUE(contains(m.read("ctl/plan"), "undo the repair " + journal)) << m.read("ctl/plan");
    EXPECT_EQ(m.unmount(), 0) << m.log();
    EXPECT_EQ(sha256_file(image), want_sha) << "the undo puts the bytes back exactly";
  }
};

// --- the repairs of ctl/repair ------------------------------------------------------------

TEST_F(CtlTest, LeakLowersTheRefcountAndTheRefcountFileShowsIt) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  const std::string c = std::to_string(d.cluster);
  Mount& m = rw(d.path);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_NE(m.wait_for_check(), "good 0\n");
  const auto before = row(m.read("refcount/0"), c);
  ASSERT_GE(before.size(), 5u);
  EXPECT_EQ(before[2], "2");
  EXPECT_EQ(before[4], "leak");
  {
    const int fd = ::open(d.path.c_str(), O_RDWR | O_CLOEXEC);  // the probe sees one of ours
    EXPECT_EQ(writable_descriptors(::getpid(), d.path), 1);
    ::close(fd);
  }
  EXPECT_EQ(writable_descriptors(m.pid(), d.path), 0) << "a read-write mount opens the image read-only";
  const std::string journal = apply(m, d.path, "repair", "leak");
  EXPECT_EQ(writable_descriptors(m.pid(), d.path), 0) << "and a repair's descriptor is closed when it is done";
  const auto after = row(m.read("refcount/0"), c);
  ASSERT_GE(after.size(), 5u);
  EXPECT_EQ(after[2], "1");
  EXPECT_EQ(after[4], "ok");
  EXPECT_TRUE(contains(m.read("report.txt"), "leak: 0")) << m.read("report.txt");
  expect_nothing_left(m);
  unmount_clean(m, d.path);
  expect_guest_as_pristine(dir_, d.path);
  undo(d.path, journal, damaged);
}

TEST_F(CtlTest, ErrorRaisesAZeroRefcount) {
  const damage::Damaged d = damage::zero_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  const std::string c = std::to_string(d.cluster);
  Mount& m = rw(d.path);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "refcount-error 4\n");
  EXPECT_EQ(row(m.read("refcount/0"), c).at(4), "error");
  const std::string journal = apply(m, d.path, "repair", "error");
  const auto after = row(m.read("refcount/0"), c);
  ASSERT_GE(after.size(), 5u);
  EXPECT_EQ(after[2], "1");
  EXPECT_EQ(after[4], "ok");
  expect_nothing_left(m);
  unmount_clean(m, d.path);
  expect_guest_as_pristine(dir_, d.path);
  undo(d.path, journal, damaged);
}

// L2 entries 3..5 garbage (or zero) between entries 2 and 6, which point at clusters four
// apart: `all` puts the three entries back at the clusters between, and no data is lost (where
// qemu-img check -r all would free them as leaks).
TEST_F(CtlTest, AllRelinksADamagedRunOfL2EntriesWithNoDataLost) {
  for (const bool garbage : {true, false}) {
    SCOPED_TRACE(garbage ? "garbage entries" : "zeroed entries");
    TempDir dir;
    const std::string p = eight_clusters(dir);
    ASSERT_FALSE(p.empty());
    Layout l(p);
    const uint64_t e2 = peek(p, l.l2_entry(2), 8), e6 = peek(p, l.l2_entry(6), 8);
    ASSERT_EQ((e6 & kOffsetMask) - (e2 & kOffsetMask), 4 * kCluster) << "QEMU laid the clusters out in order";
    for (uint64_t i = 3; i <= 5; ++i) ASSERT_TRUE(poke(p, l.l2_entry(i), 8, garbage ? 0x5a5a5a5a5a5a5a5aULL + i : 0));
    const std::string damaged = sha256_file(p);
    Mount& m = rw(p);
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_NE(m.wait_for_check(), "good 0\n");
    const std::string journal = apply(m, p, "repair", "all");
    const std::string l2 = m.read("l2/0");
    for (uint64_t i = 3; i <= 5; ++i) {
      const auto r = row(l2, std::to_string(i));
      ASSERT_GE(r.size(), 5u) << l2;
      EXPECT_EQ(parse_hex(r[2]), (e2 & kOffsetMask) + (i - 2) * kCluster) << l2;
      EXPECT_EQ(r[3], "normal");
      EXPECT_EQ(r[4], "COPIED");
    }
    expect_nothing_left(m);
    unmount_clean(m, p);
    for (uint64_t i = 3; i <= 5; ++i)
      EXPECT_EQ(peek(p, l.l2_entry(i), 8), kEntryCopied | ((e2 & kOffsetMask) + (i - 2) * kCluster)) << i;
    const CommandResult io = run({"qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0x33 192k 64k", "-c",
                                  "read -P 0x34 256k 64k", "-c", "read -P 0x35 320k 64k", p});
    EXPECT_TRUE(io.ok() && !contains(io.out, "Pattern verification failed")) << io.describe() << io.out;
    expect_guest_as_pristine(dir, p);
    undo(p, journal, damaged);
  }
}

// COPIED cleared on L2 entry 0: `all` sets that one bit again, and the L2 table is then exactly
// as QEMU wrote it (the zero entry beside it untouched).
TEST_F(CtlTest, AllFixesACopiedFlagByThatOneBit) {
  const std::string p =
      damage::small_image(dir_, {}, {"write -P 0x11 0 64k", "write -z 64k 64k", "write -P 0x13 128k 64k"});
  ASSERT_FALSE(p.empty());
  Layout l(p);
  ASSERT_EQ(peek(p, l.l2_entry(1), 8), kL2ZeroFlag) << "qemu-io wrote a zero entry";
  const std::vector<uint8_t> file = read_file_bytes(p);
  const std::vector<uint8_t> table(file.begin() + l.l2(), file.begin() + l.l2() + kCluster);
  const uint64_t e0 = peek(p, l.l2_entry(0), 8);
  ASSERT_TRUE(poke(p, l.l2_entry(0), 8, e0 & ~kEntryCopied));
  const std::string damaged = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m.wait_for_check(), "copied 2\n");
  EXPECT_EQ(row(m.read("l2/0"), "0").at(4), "-");
  const std::string journal = apply(m, p, "repair", "all");
  EXPECT_EQ(row(m.read("l2/0"), "0").at(4), "COPIED");
  expect_nothing_left(m);
  unmount_clean(m, p);
  const std::vector<uint8_t> after = read_file_bytes(p);
  EXPECT_TRUE(std::equal(table.begin(), table.end(), after.begin() + l.l2())) << "the L2 table is as QEMU wrote it";
  EXPECT_EQ(sha256_file(p), sha256_file(pristine_of(p))) << "one bit changed back, nothing else";
  expect_guest_as_pristine(dir_, p);
  undo(p, journal, damaged);
}

// A whole new refcount structure past the end of the file, on an image with snapshots: every
// snapshot still reads as before, and the header shows the new table's offset.
TEST_F(CtlTest, RebuildMakesANewRefcountStructureAndKeepsEverySnapshot) {
  const std::string p = three_snapshots(dir_);
  ASSERT_FALSE(p.empty());
  const uint64_t size = damage::file_size(p);
  // The damage: refcount table entry 0 lost, so no block describes any cluster.
  Layout l(p);
  ASSERT_TRUE(poke(p, l.reftable_entry(0), 8, 0));
  const std::string damaged = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_NE(m.wait_for_check(), "good 0\n");
  const std::string old_table = header_value(m, "refcount_table_offset");
  const std::string journal = apply(m, p, "repair", "rebuild");
  const std::string new_table = header_value(m, "refcount_table_offset");
  EXPECT_NE(new_table, old_table);
  EXPECT_GE(parse_hex(new_table), size) << "the new table lies past the old end of the file";
  EXPECT_EQ(row(m.read("refcount/table"), "0").size() >= 3, true) << m.read("refcount/table");
  EXPECT_EQ(listing(m.path("snapshots")), (std::set<std::string>{"1", "2", "3"}));
  expect_nothing_left(m);
  unmount_clean(m, p);
  expect_guest_as_pristine(dir_, p, {"alpha", "beta", "gamma"});
  undo(p, journal, damaged);
  EXPECT_EQ(damage::file_size(p), size) << "the undo cuts the file back";
}

// Two L2 entries share a cluster: `reuse` gives the second its own copy and leaves the first's
// old cluster leaked (it may be the lost data: only the user may decide); `leak destructive`
// then frees it. Each is undone in turn.
TEST_F(CtlTest, ReuseThenLeakDestructive) {
  const damage::Damaged d = damage::cross_link(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  const std::string reads = guest_hash(dir_, d.path);  // 0x11 twice: what the guest reads now
  Mount& m = rw(d.path);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_NE(m.wait_for_check(), "good 0\n");
  const std::string reused = apply(m, d.path, "repair", "reuse", "leaks 1");
  const auto r0 = row(m.read("l2/0"), "0"), r1 = row(m.read("l2/0"), "1");
  ASSERT_GE(r0.size(), 5u);
  ASSERT_GE(r1.size(), 5u);
  EXPECT_EQ(r0[1], fmt::format("0x{:016x}", d.before[0])) << "the first referrer keeps the cluster";
  EXPECT_NE(r1[2], r0[2]) << "the second has its own";
  EXPECT_EQ(r1[4], "COPIED");
  const std::string repaired = sha256_file(d.path);
  // Without the word, the leak that holds data is listed as skipped, not freed.
  ASSERT_EQ(ctl(m, "repair", "plan leak"), 0);
  EXPECT_TRUE(contains(m.read("ctl/plan"), "\nedits: 0\n")) << m.read("ctl/plan");
  const std::string freed = apply(m, d.path, "repair", "leak destructive");
  expect_nothing_left(m);
  unmount_clean(m, d.path);
  EXPECT_EQ(guest_hash(dir_, d.path), reads) << "the guest reads what it read before the repair";
  undo(d.path, freed, repaired);
  undo(d.path, reused, damaged);
}

// A cluster nothing references (its entry dropped, its refcount 0) still holds data: `all`
// never discards it; `discard` punches it out, and the file's blocks shrink.
TEST_F(CtlTest, DiscardPunchesOnlyWhatNothingReferences) {
  const std::string p = eight_clusters(dir_);
  ASSERT_FALSE(p.empty());
  Layout l(p);
  const uint64_t host = peek(p, l.l2_entry(7), 8) & kOffsetMask;
  ASSERT_TRUE(poke(p, l.l2_entry(7), 8, 0));
  ASSERT_TRUE(poke(p, l.refcount_entry(l.cluster_of(host)), 2, 0));
  // What the guest reads after this damage is what every repair must keep.
  const std::string reads = guest_hash(dir_, p);
  const std::string damaged = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(ctl(m, "repair", "all"), 0) << m.read("ctl/error");
  EXPECT_EQ(peek(p, host, 8), 0x3737373737373737ULL) << "all never discards: " << m.read("ctl/last");
  EXPECT_EQ(sha256_file(p), damaged) << m.read("ctl/last");
  struct stat before {};
  ASSERT_EQ(::stat(p.c_str(), &before), 0);
  const std::string journal = apply(m, p, "repair", "discard");
  struct stat after {};
  ASSERT_EQ(::stat(p.c_str(), &after), 0);
  EXPECT_EQ(peek(p, host, 8), 0u) << "the free cluster reads as zeros";
  EXPECT_LT(after.st_blocks, before.st_blocks) << "its space went back to the file system";
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(row(m.read("clusters"), std::to_string(l.cluster_of(host))).at(3), "free") << m.read("clusters");
  expect_nothing_left(m);
  unmount_clean(m, p);
  EXPECT_EQ(guest_hash(dir_, p), reads);
  undo(p, journal, damaged);
}

// --- ctl/snapshot -------------------------------------------------------------------------

// revert alpha: the active image reads what alpha held, alpha holds what the active image did.
TEST_F(CtlTest, SnapshotRevertSwapsTheActiveStateWithTheSnapshot) {
  const std::string p = three_snapshots(dir_);
  ASSERT_FALSE(p.empty());
  const std::string active = guest_hash(dir_, p), alpha = guest_hash(dir_, p, "alpha");
  const std::string beta = guest_hash(dir_, p, "beta"), gamma = guest_hash(dir_, p, "gamma");
  ASSERT_NE(active, alpha);
  const std::string before = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string l1 = header_value(m, "l1_table_offset");
  const std::string alpha_l1 = row(m.read("snapshots/1/info"), "l1_table_offset").at(1);
  const std::string journal = apply(m, p, "snapshot", "revert alpha");
  EXPECT_EQ(header_value(m, "l1_table_offset"), alpha_l1);
  EXPECT_EQ(row(m.read("snapshots/1/info"), "l1_table_offset").at(1), l1);
  EXPECT_EQ(listing(m.path("snapshots")), (std::set<std::string>{"1", "2", "3"}));
  expect_nothing_left(m);
  unmount_clean(m, p);
  EXPECT_EQ(guest_hash(dir_, p), alpha);
  EXPECT_EQ(guest_hash(dir_, p, "alpha"), active);
  EXPECT_EQ(guest_hash(dir_, p, "beta"), beta);
  EXPECT_EQ(guest_hash(dir_, p, "gamma"), gamma);
  undo(p, journal, before);
}

// delete 2 (by id; its name is beta): the directory 2 is gone, no inode number the kernel had
// names another snapshot now, a listing opened before gives ESTALE, a file opened before
// still reads its old text, and alpha and gamma read as before.
TEST_F(CtlTest, SnapshotDeleteOneLeavesNoNameOrInodeBehind) {
  const std::string p = three_snapshots(dir_);
  ASSERT_FALSE(p.empty());
  keep_copy(p);
  const std::string before = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  std::map<std::string, uint64_t> ino;
  for (const char* s : {"1", "2", "3"}) {
    ino[s] = inode_of(m.path(std::string("snapshots/") + s));
    ASSERT_NE(ino[s], 0u) << s;
  }
  std::set<uint64_t> old_inodes;
  for (const auto& [name, i] : ino) old_inodes.insert(i);
  old_inodes.insert(inode_of(m.path("snapshots/3/info")));
  const std::string info3 = m.read("snapshots/3/info");
  const int info3_fd = ::open(m.path("snapshots/3/info").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(info3_fd, 0);
  DIR* dir2 = ::opendir(m.path("snapshots/2").c_str());
  ASSERT_NE(dir2, nullptr);
  EXPECT_EQ(header_value(m, "nb_snapshots"), "0x3");

  const std::string journal = apply(m, p, "snapshot", "delete 2");
  EXPECT_EQ(listing(m.path("snapshots")), (std::set<std::string>{"1", "3"}));
  struct stat st {};
  EXPECT_EQ(::stat(m.path("snapshots/2").c_str(), &st), -1) << "the old name is gone";
  EXPECT_EQ(errno, ENOENT);
  for (const char* s : {"1", "3"}) {
    const uint64_t now = inode_of(m.path(std::string("snapshots/") + s));
    EXPECT_NE(now, 0u);
    EXPECT_EQ(old_inodes.count(now), 0u) << "snapshots/" << s << " has an inode number of the old tree";
  }
  EXPECT_EQ(old_inodes.count(inode_of(m.path("snapshots/3/info"))), 0u);
  EXPECT_EQ(row(m.read("snapshots/3/info"), "name").at(1), "gamma");
  EXPECT_EQ(row(m.read("snapshots/3/info"), "index").at(1), "1") << "gamma moved up one slot";
  EXPECT_EQ(header_value(m, "nb_snapshots"), "0x2");
  errno = 0;
  EXPECT_EQ(::readdir(dir2), nullptr);
  EXPECT_EQ(errno, ESTALE) << "a listing of the deleted snapshot's directory";
  ::closedir(dir2);
  std::string old_text(info3.size() + 16, '\0');
  const ssize_t n = ::pread(info3_fd, old_text.data(), old_text.size(), 0);
  ::close(info3_fd);
  ASSERT_GE(n, 0);
  old_text.resize(static_cast<size_t>(n));
  EXPECT_EQ(old_text, info3) << "an open file keeps its text";
  expect_nothing_left(m);
  unmount_clean(m, p);
  const CommandResult l = qemu_img({"snapshot", "-l", p});
  EXPECT_TRUE(contains(l.out, "alpha") && !contains(l.out, "beta") && contains(l.out, "gamma")) << l.out;
  expect_guest_as_pristine(dir_, p, {"alpha", "gamma"});
  undo(p, journal, before);
}

// keep gamma (by name; never by prefix): only snapshots/3 is left.
TEST_F(CtlTest, SnapshotKeepOnlyByExactName) {
  const std::string p = three_snapshots(dir_);
  ASSERT_FALSE(p.empty());
  keep_copy(p);
  const std::string before = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  for (const char* prefix : {"keep gam", "keep gammaa", "delete alph", "revert 4"}) {
    EXPECT_EQ(ctl(m, "snapshot", prefix), ENOENT) << prefix;
    EXPECT_TRUE(contains(m.read("ctl/error"), "gamma")) << "the error lists the snapshots: " << m.read("ctl/error");
  }
  EXPECT_EQ(sha256_file(p), before);
  const std::string journal = apply(m, p, "snapshot", "keep gamma");
  EXPECT_EQ(listing(m.path("snapshots")), std::set<std::string>{"3"});
  EXPECT_EQ(row(m.read("snapshots/3/info"), "name").at(1), "gamma");
  EXPECT_EQ(header_value(m, "nb_snapshots"), "0x1");
  expect_nothing_left(m);
  unmount_clean(m, p);
  expect_guest_as_pristine(dir_, p, {"gamma"});
  undo(p, journal, before);
}

// --- ctl/bits -----------------------------------------------------------------------------

TEST_F(CtlTest, BitsSetAndClearCorruptAndDirtyOnVersion3) {
  const std::string p = damage::small_image(dir_);
  ASSERT_FALSE(p.empty());
  keep_copy(p);
  const std::string clean = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  apply(m, p, "bits", "set corrupt", "corrupt-flag 3");
  EXPECT_EQ(header_value(m, "incompatible_features"), "0x2");
  EXPECT_EQ(header_value(m, "corrupt"), "0x1");
  apply(m, p, "bits", "clear corrupt");
  EXPECT_EQ(header_value(m, "incompatible_features"), "0x0");
  apply(m, p, "bits", "set dirty");  // dirty with right refcounts: good
  EXPECT_EQ(header_value(m, "dirty"), "0x1");
  const std::string dirty = sha256_file(p);
  const std::string journal = apply(m, p, "bits", "clear dirty");
  EXPECT_EQ(header_value(m, "dirty"), "0x0");
  EXPECT_EQ(sha256_file(p), clean);
  expect_nothing_left(m);
  unmount_clean(m, p);
  expect_guest_as_pristine(dir_, p);
  undo(p, journal, dirty);
  EXPECT_EQ(peek(p, 72, 8), kIncompatDirty);
}

// Byte 72 of a version 2 header begins its extensions: setting a bit is refused, clearing
// one has nothing to do, and neither writes a byte.
TEST_F(CtlTest, BitsOnVersion2AreRefusedOrNothingToDo) {
  const std::string p = damage::small_image(dir_, {"compat=0.10"}, {"write -P 0x11 0 64k"}, "v2.qcow2");
  ASSERT_FALSE(p.empty());
  const std::string sha = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  for (const char* bit : {"set dirty", "set corrupt"}) {
    EXPECT_EQ(ctl(m, "bits", bit), EINVAL) << bit;
    EXPECT_TRUE(contains(m.read("ctl/error"), "version 2")) << m.read("ctl/error");
    EXPECT_TRUE(contains(m.read("ctl/last"), ": refused at ")) << m.read("ctl/last");
  }
  for (const char* bit : {"clear dirty", "clear corrupt"}) {
    EXPECT_EQ(ctl(m, "bits", bit), 0) << bit << ": " << m.read("ctl/error");
    EXPECT_TRUE(contains(m.read("ctl/last"), "nothing to do at")) << m.read("ctl/last");
  }
  EXPECT_EQ(header_value(m, "version"), "0x2");
  EXPECT_EQ(m.unmount(), 0) << m.log();
  EXPECT_EQ(sha256_file(p), sha);
  EXPECT_TRUE(journals_of(p).empty());
}

// --- ctl/patch and ctl/copy ---------------------------------------------------------------

TEST_F(CtlTest, PatchByOffsetAndByName) {
  const std::string p = eight_clusters(dir_);
  ASSERT_FALSE(p.empty());
  keep_copy(p);
  Layout l(p);
  const std::string clean = sha256_file(p);
  const uint64_t e3 = peek(p, l.l2_entry(3), 8);
  const uint64_t c = l.cluster_of(e3 & kOffsetMask);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  // By name: active L2 table of L1 entry 0, entry 3, dropped (its cluster then leaks).
  apply(m, p, "patch", "l2 0 3 0", "leaks 1");
  EXPECT_TRUE(row(m.read("l2/0"), "3").empty()) << "a zero entry is not listed";
  // By offset, 8 bytes (the default width): put back.
  apply(m, p, "patch", fmt::format("0x{:x} 0x{:x}", l.l2_entry(3), e3));
  EXPECT_EQ(row(m.read("l2/0"), "3").at(1), fmt::format("0x{:016x}", e3));
  EXPECT_EQ(sha256_file(p), clean);
  // A 2-byte refcount by name, and back by offset with a width.
  apply(m, p, "patch", fmt::format("refcount {} 2", c), "copied 2");
  EXPECT_EQ(row(m.read(fmt::format("refcount/0")), std::to_string(c)).at(2), "2");
  apply(m, p, "patch", fmt::format("{} 1 2", l.refcount_entry(c)));
  // A header field by name.
  const uint64_t l1_size = peek(p, 36, 4);
  apply(m, p, "patch", fmt::format("header.l1_size {}", l1_size + 1));
  EXPECT_EQ(header_value(m, "l1_size"), fmt::format("0x{:x}", l1_size + 1));
  const std::string grown = sha256_file(p);
  const std::string journal = apply(m, p, "patch", fmt::format("header.l1_size {}", l1_size));
  EXPECT_EQ(sha256_file(p), clean);
  // What does not exist is refused, and nothing is written.
  const struct {
    const char* command;
    int err;
  } bad[] = {{"l2 9999 0 0", ENOENT},
             {"header.nonsense 0", ENOENT},
             {"header.l1_size 0x100000000", EINVAL},
             {"0x7fffffffffff 0", EINVAL},
             {"0 0 3", EINVAL}};
  for (const auto& b : bad) {
    EXPECT_EQ(ctl(m, "patch", b.command), b.err) << b.command;
    EXPECT_EQ(lines_of(m.read("ctl/error")).size(), 1u) << m.read("ctl/error");
  }
  EXPECT_EQ(sha256_file(p), clean);
  expect_nothing_left(m);
  unmount_clean(m, p);
  expect_guest_as_pristine(dir_, p);
  undo(p, journal, grown);
}

TEST_F(CtlTest, CopyFromAnotherFileAndWithinTheImage) {
  const std::string p = eight_clusters(dir_);
  ASSERT_FALSE(p.empty());
  Layout l(p);
  const std::string clean = sha256_file(p);
  const std::string backup = dir_.file("backup.qcow2");
  std::filesystem::copy_file(p, backup);
  const uint64_t table = l.l2();
  ASSERT_TRUE(fill(p, table, kCluster, 0));  // the L2 table zeroed
  const std::string damaged = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_NE(m.wait_for_check(), "good 0\n");
  EXPECT_EQ(lines_of(m.read("l2/0")).size(), 1u) << "no entry left but the header line: " << m.read("l2/0");
  // From the backup, by absolute name.
  const std::string journal = apply(m, p, "copy", fmt::format("{} {} {} {}", table, table, kCluster, backup));
  EXPECT_EQ(sha256_file(p), clean);
  EXPECT_EQ(row(m.read("l2/0"), "7").at(3), "normal");
  // Within the image: 8 bytes of entry 1 over entry 0 (a cross-link)...
  apply(m, p, "copy", fmt::format("0x{:x} 0x{:x} 8", l.l2_entry(0), l.l2_entry(1)), "refcount-error 4");
  EXPECT_EQ(row(m.read("l2/0"), "0").at(2), row(m.read("l2/0"), "1").at(2));
  // ...and back from the backup, named relative to the image's directory.
  apply(m, p, "copy", fmt::format("{} {} 8 backup.qcow2", l.l2_entry(0), l.l2_entry(0)));
  EXPECT_EQ(sha256_file(p), clean);
  EXPECT_EQ(ctl(m, "copy", fmt::format("0 0 {}", 2 * kCluster)), EINVAL) << "at most one cluster";
  EXPECT_EQ(ctl(m, "copy", "0 0 8 no-such-file"), ENOENT);
  EXPECT_TRUE(contains(m.read("ctl/error"), "no-such-file")) << m.read("ctl/error");
  EXPECT_EQ(sha256_file(p), clean);
  expect_nothing_left(m);
  unmount_clean(m, p);
  expect_guest_as_pristine(dir_, p);
  undo(p, journal, damaged);
}

// --- dry runs and refusals ----------------------------------------------------------------

TEST_F(CtlTest, DryRunLeavesThePlanAndWritesNothing) {
  const damage::Damaged d = damage::reftable_miss(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  Mount& m = rw(d.path);
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string status = m.wait_for_check();
  ASSERT_EQ(ctl(m, "repair", "plan all"), 0) << m.read("ctl/error");
  const std::string plan = m.read("ctl/plan");
  EXPECT_TRUE(starts_with(plan, "plan: repair all\n")) << plan;
  EXPECT_TRUE(contains(plan, "refcount-rebuild")) << plan;
  EXPECT_FALSE(contains(plan, "\nedits: 0\n")) << plan;
  EXPECT_TRUE(contains(m.read("ctl/last"), "repair plan all: dry run at ")) << m.read("ctl/last");
  EXPECT_TRUE(contains(m.read("ctl/last"), "nothing was written"));
  EXPECT_EQ(m.read("ctl/error"), "");
  EXPECT_EQ(m.read("ctl/journal"), "");
  struct stat st {};
  ASSERT_EQ(::stat(m.path("ctl/plan").c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), plan.size()) << "the plan's size is exact";
  EXPECT_EQ(m.read("status"), status) << "a dry run changes nothing the mount shows";
  // Through the shell's own echo, as a user types it.
  const CommandResult sh = run({"bash", "-c", fmt::format("echo plan rebuild > '{}'", m.path("ctl/repair"))});
  EXPECT_TRUE(sh.ok()) << sh.describe();
  EXPECT_TRUE(starts_with(m.read("ctl/plan"), "plan: rebuild the refcount structure\n")) << m.read("ctl/plan");
  EXPECT_EQ(m.unmount(), 0) << m.log();
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_TRUE(journals_of(d.path).empty());
}

TEST_F(CtlTest, BadCommandsAreEINVALSayWhyAndWriteNothing) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  Mount& m = rw(d.path);
  ASSERT_TRUE(m.ok()) << m.error();
  const struct {
    const char* file;
    std::string command;
    const char* why;  // in ctl/error
  } bad[] = {
      {"repair", "bogus", "unknown repair 'bogus'"},
      {"repair", "all now", "unexpected 'now'"},
      {"repair", "", "no command"},
      {"repair", "plan", "no command"},
      {"snapshot", "revert", "revert SNAP"},
      {"snapshot", "rename alpha beta", "revert SNAP"},
      {"bits", "set clean", "set corrupt|dirty"},
      {"patch", "0x10 zz", "'zz' is not a number"},
      {"patch", "0x10", "OFFSET VALUE"},
      {"copy", "1 2", "DST SRC LENGTH"},
      {"undo", "a b", "JOURNAL"},
      {"repair", "all\x01", "printable ASCII"},
      {"repair", std::string(5000, 'a'), "at most 4096 bytes"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(std::string(b.file) + ": " + b.command.substr(0, 40));
    EXPECT_EQ(ctl(m, b.file, b.command), EINVAL);
    const std::string error = m.read("ctl/error");
    EXPECT_TRUE(contains(error, b.why)) << error;
    EXPECT_EQ(lines_of(error).size(), 1u) << error;
    EXPECT_TRUE(is_ascii_text(error)) << error;
    EXPECT_TRUE(contains(m.read("ctl/last"), ": refused at ")) << m.read("ctl/last");
    EXPECT_TRUE(contains(m.read("ctl/last"), "EINVAL")) << m.read("ctl/last");
    EXPECT_EQ(m.read("ctl/plan"), "");
  }
  // The shell reports the write's error (bash's echo says so on stderr, exit 1).
  const CommandResult sh = run({"bash", "-c", fmt::format("echo bogus > '{}'", m.path("ctl/repair"))});
  EXPECT_EQ(sh.exit_code, 1) << sh.describe();
  EXPECT_TRUE(contains(sh.err, "Invalid argument")) << sh.err;
  // Result files are not written to; `truncate -s 0` of a command file is taken (and does nothing).
  EXPECT_EQ(::open(m.path("ctl/plan").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(::truncate(m.path("ctl/repair").c_str(), 0), 0) << std::strerror(errno);
  EXPECT_TRUE(starts_with(m.read("ctl/repair"), "repair:   leak | error | all")) << "reading shows the grammar";
  EXPECT_TRUE(contains(m.read("ctl/README"), "ENOENT")) << m.read("ctl/README");
  EXPECT_EQ(m.unmount(), 0) << m.log();
  EXPECT_EQ(sha256_file(d.path), damaged) << "nothing was written";
  EXPECT_TRUE(journals_of(d.path).empty());
}

TEST_F(CtlTest, UnknownSnapshotIsENOENT) {
  const std::string p = three_snapshots(dir_);
  ASSERT_FALSE(p.empty());
  const std::string sha = sha256_file(p);
  Mount& m = rw(p);
  ASSERT_TRUE(m.ok()) << m.error();
  for (const char* cmd : {"delete nosuch", "revert nosuch", "keep nosuch", "delete snapshot[3]", "delete 4"}) {
    EXPECT_EQ(ctl(m, "snapshot", cmd), ENOENT) << cmd;
    EXPECT_TRUE(contains(m.read("ctl/last"), "ENOENT")) << m.read("ctl/last");
    EXPECT_FALSE(m.read("ctl/error").empty());
  }
  EXPECT_EQ(listing(m.path("snapshots")), (std::set<std::string>{"1", "2", "3"}));
  EXPECT_EQ(m.unmount(), 0) << m.log();
  EXPECT_EQ(sha256_file(p), sha);
  EXPECT_TRUE(journals_of(p).empty());
}

// A read-only mount (the default) has no command files, and nothing can make it write.
TEST_F(CtlTest, ReadOnlyMountIsEROFSAndNeverWrites) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  Mount& m = mount(d.path, "ro");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(listing(m.path("ctl")), std::set<std::string>{"README"});
  EXPECT_TRUE(contains(m.read("ctl/README"), "-o rw")) << m.read("ctl/README");
  for (const char* file : {"repair", "undo", "README"}) EXPECT_EQ(ctl(m, file, "all"), EROFS) << file;
  const CommandResult sh = run({"bash", "-c", fmt::format("echo all > '{}'", m.path("ctl/repair"))});
  EXPECT_NE(sh.exit_code, 0);
  EXPECT_TRUE(contains(sh.err, "Read-only file system")) << sh.err;
  EXPECT_EQ(m.unmount(), 0) << m.log();
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_TRUE(journals_of(d.path).empty());
}

// A command while another runs (held by the test hook) is EBUSY and writes nothing; the one
// running then goes on and is applied.
TEST_F(CtlTest, ACommandWhileAnotherRunsIsEBUSY) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string hold = dir_.file("go-on");
  Mount& m = rw(d.path, {"-o", "test_hold_repair=" + hold});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string damaged = sha256_file(d.path);
  HeldRepair held(m, hold);
  ASSERT_TRUE(wait_until([&] { return contains(m.read("ctl/last"), "repair all: running since "); }, seconds(30)))
      << m.read("ctl/last");
  EXPECT_TRUE(contains(m.read("status"), "repairing since ")) << m.read("status");
  EXPECT_TRUE(contains(m.read("status"), ": ctl/repair all\n")) << m.read("status");
  EXPECT_EQ(writable_descriptors(m.pid(), d.path), 0) << "held before the image is opened for writing";
  // Another control file: writes to the same one wait in the kernel for the one in progress.
  EXPECT_EQ(ctl(m, "bits", "set dirty"), EBUSY);
  const std::string error = m.read("ctl/error");
  EXPECT_TRUE(contains(error, "another command is running (ctl/repair all, since ")) << error;
  EXPECT_EQ(ctl(m, "snapshot", "plan delete all"), EBUSY);
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_TRUE(journals_of(d.path).empty());
  held.release();
  EXPECT_EQ(held.result.load(), 0) << m.read("ctl/error");
  EXPECT_TRUE(contains(m.read("ctl/last"), "repair all: applied at ")) << m.read("ctl/last");
  EXPECT_EQ(journals_of(d.path).size(), 1u);
  EXPECT_EQ(peek(d.path, 72, 8), 0u) << "the refused set dirty wrote nothing";
  unmount_clean(m, d.path);
}

// SIGTERM while a command is held: the command gives up with nothing written, and the daemon
// exits cleanly without waiting for the hold (whose own limit is 60 s).
TEST_F(CtlTest, SigtermWhileACommandIsHeldEndsItUnwritten) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string hold = dir_.file("go-on");
  Mount& m = rw(d.path, {"-o", "test_hold_repair=" + hold});
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string damaged = sha256_file(d.path);
  HeldRepair held(m, hold);
  ASSERT_TRUE(wait_until([&] { return contains(m.read("ctl/last"), "repair all: running since "); }, seconds(30)))
      << m.read("ctl/last");
  ASSERT_EQ(::kill(m.pid(), SIGTERM), 0);
  EXPECT_EQ(m.wait_exit(seconds(30)), 0) << m.log();
  held.release();
  EXPECT_NE(held.result.load(), 0) << "the command did not go on";
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_TRUE(journals_of(d.path).empty());
}

// A QEMU process holding the image: every command is EBUSY and ctl/error names the lock;
// a dry run reads, as a read-only QEMU user does, so only a writer stops it.
TEST_F(CtlTest, AnImageQemuHoldsIsEBUSYNamingTheLock) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  Mount& m = rw(d.path);
  ASSERT_TRUE(m.ok()) << m.error();
  {
    QemuHolder vm(d.path);
    ASSERT_TRUE(vm.ok());
    for (const auto& [file, cmd] : std::vector<std::pair<std::string, std::string>>{
             {"repair", "all"}, {"repair", "plan all"}, {"bits", "clear dirty"}}) {
      EXPECT_EQ(ctl(m, file, cmd), EBUSY) << cmd;
      const std::string error = m.read("ctl/error");
      EXPECT_TRUE(contains(error, "lock on byte")) << "the message names the lock: " << error;
      EXPECT_TRUE(contains(error, "qemu-io")) << error;
      EXPECT_TRUE(contains(error, "pid " + std::to_string(vm.pid()))) << error;
    }
  }
  {
    QemuHolder reader(d.path, true);  // qemu-io -r: it does not share writing
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(ctl(m, "repair", "all"), EBUSY);
    EXPECT_TRUE(contains(m.read("ctl/error"), "lock on byte")) << m.read("ctl/error");
    EXPECT_EQ(ctl(m, "repair", "plan all"), 0) << m.read("ctl/error");
  }
  EXPECT_EQ(sha256_file(d.path), damaged);
  EXPECT_TRUE(journals_of(d.path).empty());
  // Once it has gone, the repair goes through.
  apply(m, d.path, "repair", "all");
  unmount_clean(m, d.path);
}

// A write of the repair fails (injected: the daemon's second write): the command answers EIO,
// the image is put back at once, ctl/error says so, and the files show the image as it is.
TEST_F(CtlTest, AFailedWriteIsEIOAndTheImageIsPutBack) {
  const damage::Damaged d = damage::raise_data_refcount(dir_);
  ASSERT_FALSE(d.path.empty());
  const std::string damaged = sha256_file(d.path);
  ::setenv("QCOW2FS_FAULT", "write:2:eio", 1);  // inherited by the daemon only
  Mount& m = rw(d.path);
  ::unsetenv("QCOW2FS_FAULT");
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string status = m.wait_for_check();
  EXPECT_NE(status, "good 0\n");
  EXPECT_EQ(ctl(m, "repair", "all"), EIO);
  const std::string error = m.read("ctl/error");
  EXPECT_TRUE(starts_with(error, "ctl/repair all: ")) << error;
  EXPECT_EQ(lines_of(error).size(), 1u) << error;
  EXPECT_TRUE(contains(m.read("ctl/last"), "repair all: failed at ")) << m.read("ctl/last");
  EXPECT_EQ(m.read("ctl/journal"), "");
  EXPECT_EQ(sha256_file(d.path), damaged) << "a failed repair leaves the image as it was: " << error;
  EXPECT_EQ(m.wait_for_check(), status);
  // The fault was one write: the same command now goes through.
  const std::string journal = apply(m, d.path, "repair", "all");
  unmount_clean(m, d.path);
  expect_guest_as_pristine(dir_, d.path);
  undo(d.path, journal, damaged);
}

}  // namespace
}  // namespace qcow2::test
