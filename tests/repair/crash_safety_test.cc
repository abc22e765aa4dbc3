// A repair stopped at any point leaves the image no worse: as it was, or undoable from its
// journal back to the exact damaged bytes. Faults are injected by the write path's hook
// (engine/io/write_faults.h) in a real qcow2-dump process: a crash right after each write and
// each sync in turn, and each of them failing with EIO or ENOSPC. QEMU's locks: a repair
// refuses an image qemu-io holds, and while a repair runs qemu-img cannot take the image.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "engine/format/header.h"
#include "engine/repair/journal_format.h"
#include "tests/check/damage_recipes.h"
#include "tests/repair/repair_helpers.h"
#include "tests/support/qemu_holder.h"

namespace qcow2::test {
namespace {

constexpr int kCrashed = 99;  // write_faults.h: kCrashExitStatus

CommandResult dump_with_fault(const std::string& fault, const std::vector<std::string>& args,
                              const std::string& cwd) {
  std::vector<std::string> argv = {"env", "QCOW2FS_FAULT=" + fault, dump_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, cwd);
}

struct Case {
  std::string name;
  damage::Damaged (*make)(const TempDir&);
};

// The damaged image, and the repaired bytes a run without faults gives.
struct Prepared {
  std::string damaged;       // a pristine copy of the damaged image
  std::string damaged_sha;
  std::string repaired_sha;
};

Prepared prepare(const TempDir& dir, const Case& c) {
  Prepared p;
  const damage::Damaged d = c.make(dir);
  if (d.path.empty()) return p;
  p.damaged = dir.file("damaged.qcow2");
  std::filesystem::copy_file(d.path, p.damaged);
  p.damaged_sha = sha256_file(p.damaged);
  const std::string trial = dir.file("trial.qcow2");
  std::filesystem::copy_file(p.damaged, trial);
  const CommandResult r = run_dump({"-R", "all", trial}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  p.repaired_sha = sha256_file(trial);
  EXPECT_NE(p.repaired_sha, p.damaged_sha) << "the case's repair writes something";
  return p;
}

class CrashSafety : public ::testing::TestWithParam<Case> {};

// Reflinks are not needed: the images are small.
std::string fresh_copy(const TempDir& dir, const Prepared& p, int n) {
  const std::string work = dir.file(fmt::format("work{}.qcow2", n));
  std::filesystem::remove(work);
  std::filesystem::copy_file(p.damaged, work);
  return work;
}

TEST_P(CrashSafety, ACrashAfterAnyWriteOrSyncLeavesTheImageAsItWasOrUndoable) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Prepared p = prepare(dir, GetParam());
  ASSERT_FALSE(p.damaged.empty());
  int copies = 0;
  for (const char* op : {"write", "sync"}) {
    bool completed = false;
    for (int n = 1; n <= 200 && !completed; ++n) {
      SCOPED_TRACE(fmt::format("crash after {} {}", op, n));
      const std::string work = fresh_copy(dir, p, ++copies);
      const CommandResult r = dump_with_fault(fmt::format("{}:{}:crash", op, n), {"-R", "all", work}, dir.path());
      if (r.exit_code != kCrashed) {
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        EXPECT_EQ(sha256_file(work), p.repaired_sha) << "with no crash, the repair completes";
        completed = true;
        continue;
      }
      const std::string now = sha256_file(work);
      const std::vector<std::string> journals = journals_of(work);
      ASSERT_LE(journals.size(), 1u);
      bool journal_whole = false;
      if (!journals.empty()) journal_whole = decode_journal(read_file_bytes(journals[0])).ok();
      if (!journal_whole) {
        EXPECT_EQ(now, p.damaged_sha) << "no image byte is written before the journal is synced";
        continue;
      }
      if (now != p.damaged_sha && now != p.repaired_sha) {
        EXPECT_NE(peek(work, 72, 8) & kIncompatCorrupt, 0u) << "mid-repair, the corrupt bit keeps VMs away";
      }
      const CommandResult u = run_dump({"--undo", journals[0], work}, dir.path());
      EXPECT_LT(u.exit_code, 64) << u.describe();
      EXPECT_EQ(sha256_file(work), p.damaged_sha) << "the journal undoes whatever was written";
    }
    EXPECT_TRUE(completed) << "the repair has fewer than 200 " << op << "s";
  }
}

TEST_P(CrashSafety, AFailedWriteOrSyncIsPutBackAtOnce) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Prepared p = prepare(dir, GetParam());
  ASSERT_FALSE(p.damaged.empty());
  int copies = 0;
  for (const char* op : {"write", "sync"})
    for (const char* err : {"eio", "enospc"}) {
      bool completed = false;
      for (int n = 1; n <= 200 && !completed; ++n) {
        SCOPED_TRACE(fmt::format("{} {} fails with {}", op, n, err));
        const std::string work = fresh_copy(dir, p, ++copies);
        const CommandResult r = dump_with_fault(fmt::format("{}:{}:{}", op, n, err), {"-R", "all", work}, dir.path());
        if (r.exit_code == 0) {
          EXPECT_EQ(sha256_file(work), p.repaired_sha);
          // Past the last image write, a failure can only be the journal's marker: done, with
          // a warning; otherwise the run went through without meeting the fault.
          completed = r.err.find("warning") == std::string::npos;
          continue;
        }
        EXPECT_EQ(r.exit_code, 74) << r.describe();
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(sha256_file(work), p.damaged_sha) << "a failed repair leaves the image as it was: " << r.err;
        for (const std::string& j : journals_of(work)) {
          auto decoded = decode_journal(read_file_bytes(j));
          ASSERT_TRUE(decoded.ok()) << "a journal left behind is whole";
          EXPECT_TRUE(decoded->undone()) << "and says the repair was put back";
        }
      }
      EXPECT_TRUE(completed);
    }
}

TEST_P(CrashSafety, ACrashDuringAnUndoLeavesItToBeRunAgain) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Prepared p = prepare(dir, GetParam());
  ASSERT_FALSE(p.damaged.empty());
  bool completed = false;
  for (int n = 1; n <= 200 && !completed; ++n) {
    SCOPED_TRACE(fmt::format("undo crashes after write {}", n));
    const std::string work = fresh_copy(dir, p, n);
    const CommandResult r = run_dump({"-R", "all", work}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const std::vector<std::string> journals = journals_of(work);
    ASSERT_EQ(journals.size(), 1u);
    const CommandResult u = dump_with_fault(fmt::format("write:{}:crash", n), {"--undo", journals[0], work}, dir.path());
    if (u.exit_code != kCrashed) {
      completed = true;
      EXPECT_EQ(sha256_file(work), p.damaged_sha) << u.describe();
      continue;
    }
    // A crash after the last write (the journal marked undone) has nothing left to do.
    const CommandResult again = run_dump({"--undo", journals[0], work}, dir.path());
    if (again.err.find("undone already") == std::string::npos) {
      EXPECT_LT(again.exit_code, 64) << again.describe();
    }
    EXPECT_EQ(sha256_file(work), p.damaged_sha) << "the same undo, run again, finishes the job";
  }
  EXPECT_TRUE(completed);
}

damage::Damaged rebuild_with_snapshots(const TempDir& dir) {
  const std::string p = damage::two_snapshots(dir, true);
  if (p.empty()) return {};
  damage::Damaged d{p, 0, 0, {}};
  if (!poke(p, peek(p, 48, 8), 8, 0)) return {};  // refcount table entry 0 lost: a rebuild
  return d;
}

INSTANTIATE_TEST_SUITE_P(Repairs, CrashSafety,
                         ::testing::Values(Case{"leak_and_copied", damage::raise_data_refcount},
                                           Case{"rebuild_with_snapshots", rebuild_with_snapshots},
                                           Case{"garbled_run", damage::garbled_run}),
                         [](const auto& info) { return info.param.name; });

TEST(Locks, ARepairRefusesAnImageQemuHolds) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::raise_data_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  const std::string before = sha256_file(d.path);
  {
    QemuHolder vm(d.path);
    ASSERT_TRUE(vm.ok());
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"-R", "all", d.path}, {"-R", "all", "--dry-run", d.path}, {"-C", "dirty", d.path}}) {
      const CommandResult r = run_dump(args);
      EXPECT_EQ(r.exit_code, 75) << r.describe();
      EXPECT_NE(r.err.find("lock"), std::string::npos) << "the message names the lock: " << r.err;
    }
    EXPECT_EQ(run_dump({"-l", d.path}).exit_code, 75) << "-l takes the locks on a read-only run too";
  }
  {
    QemuHolder reader(d.path, true);  // qemu-io -r: it does not share writing
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(run_dump({"-R", "all", d.path}).exit_code, 75);
    const CommandResult dry = run_dump({"-R", "all", "--dry-run", d.path});
    EXPECT_EQ(dry.exit_code, 0) << "a dry run reads, as the reader does: " << dry.describe();
  }
  EXPECT_EQ(sha256_file(d.path), before);
  EXPECT_TRUE(journals_of(d.path).empty());
}

TEST(Locks, WhileARepairRunsQemuCannotTakeTheImage) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const damage::Damaged d = damage::raise_data_refcount(dir);
  ASSERT_FALSE(d.path.empty());
  // The repair stops itself right after its first write (the journal's header), locks held.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("QCOW2FS_FAULT", "write:1:stop", 1);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execl(dump_bin().c_str(), "qcow2-dump", "-R", "all", d.path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << "the repair stopped mid-way";
  const CommandResult check = qemu_img({"check", "-r", "all", d.path}, dir.path());
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.err.find("lock"), std::string::npos) << check.describe();
  const CommandResult io = run({"qemu-io", "-f", "qcow2", "-c", "write 0 512", d.path});
  EXPECT_NE(io.exit_code, 0) << "no VM can open it for writing meanwhile: " << io.describe();
  ::kill(pid, SIGCONT);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  expect_qemu_clean(d.path);
}

// A file system too full for the journal and the new structures: refused before a byte is
// written. A small tmpfs of our own (we are root in the test environment; skipped otherwise).
TEST(Space, ARepairTheFileSystemHasNoRoomForIsRefused) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string mnt = dir.file("small");
  std::filesystem::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    std::string at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};
  TempDir scratch;
  const damage::Damaged d = damage::reftable_miss(scratch);
  ASSERT_FALSE(d.path.empty());
  const std::string img = mnt + "/a.qcow2";
  std::filesystem::copy_file(d.path, img);
  const uint64_t size = std::filesystem::file_size(img);
  // Leave less room than the new refcount block and table need.
  const std::filesystem::space_info space = std::filesystem::space(mnt);
  const uint64_t filler = space.available > 96 * 1024 ? space.available - 96 * 1024 : 0;
  ASSERT_TRUE(run({"fallocate", "-l", std::to_string(filler), mnt + "/filler"}).ok());
  const std::string before = sha256_file(img);
  const CommandResult r = run_dump({"-R", "all", img});
  EXPECT_EQ(r.exit_code, 74) << r.describe();
  EXPECT_NE(r.err.find("free"), std::string::npos) << r.err;
  EXPECT_EQ(sha256_file(img), before);
  EXPECT_EQ(std::filesystem::file_size(img), size);
  EXPECT_TRUE(journals_of(img).empty());
}

}  // namespace
}  // namespace qcow2::test
