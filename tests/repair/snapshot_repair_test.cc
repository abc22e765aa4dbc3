// Snapshot repairs (-D delete, -E keep only, -A revert) on real images made by qemu-img and
// qemu-io, through the engine (run_repair) and through qcow2-dump. Every repair must leave an
// image qemu-img check calls clean, with the guest data of the active image and of every kept
// snapshot as QEMU read it before, every kept entry byte for byte, a second plan that does
// nothing (or is refused: the snapshot is gone), -R all with nothing to do, and a journal that
// undoes it byte for byte. Damaged images are damaged with qcow2-poke only.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <ostream>

#include "engine/format/snapshot.h"
#include "engine/repair/run_repair.h"
#include "tests/check/check_helpers.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

// One kind of image the repairs must handle.
struct Variant {
  std::string name;
  std::vector<std::string> options;  // qemu-img create -o
  bool bitmap = false;               // a persistent bitmap (qemu-img bitmap --add) before the writes
  // refcount_bits=1 cannot count a cluster two tables share: QEMU can only snapshot an empty
  // disk there, so the data is written after the snapshots.
  bool data_before_snapshots = true;
};

std::vector<Variant> variants() {
  return {
      {"v3", {}},
      {"v2", {"compat=0.10"}},
      {"cluster_4k", {"cluster_size=4096"}},
      {"refcount_64", {"refcount_bits=64"}},
      {"refcount_1", {"refcount_bits=1"}, false, false},
      {"extended_l2", {"extended_l2=on"}},
      // 64 clusters per refcount block: the refcounts a delete lowers span many blocks.
      {"cluster_512_refcount_64", {"cluster_size=512", "refcount_bits=64"}},
      {"bitmap", {}, true},
  };
}

enum class Front { kEngine, kCli };

const char* front_name(Front f) { return f == Front::kEngine ? "engine" : "cli"; }

// gtest prints parameters with these (names, not bytes).
void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }
void PrintTo(Front f, std::ostream* os) { *os << front_name(f); }

std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// The guest data of the image (snapshot "" is the active one), as qemu-img convert reads it.
std::string guest_hash(const std::string& image, const std::string& snapshot = "") {
  static int n = 0;
  const std::string raw = fmt::format("{}/export-{}.raw", dir_of(image), n++);
  if (!export_raw(image, raw, snapshot)) return "";
  const std::string h = sha256_file(raw);
  std::filesystem::remove(raw);
  return h;
}

// Each snapshot entry's raw bytes (fixed part, extra data, id, name, padding), by name (the
// first entry of a name), read from the file at the offsets the table gives.
std::map<std::string, std::vector<uint8_t>> entries_of(const std::string& image) {
  std::map<std::string, std::vector<uint8_t>> out;
  auto img = Image::open(image);
  if (!img.ok()) {
    ADD_FAILURE() << img.status().message();
    return out;
  }
  const std::vector<uint8_t> file = read_file_bytes(image);
  for (const Snapshot& s : (*img)->snapshots().snapshots) {
    const uint64_t end = std::min<uint64_t>(s.entry_offset + s.entry_bytes, file.size());
    std::vector<uint8_t> e(file.begin() + static_cast<ptrdiff_t>(s.entry_offset), file.begin() + static_cast<ptrdiff_t>(end));
    e.resize(s.entry_bytes, 0);  // a last entry may end unpadded at the end of the file
    out.emplace(s.name, std::move(e));
  }
  return out;
}

// The snapshot names qemu-img lists, in table order.
std::vector<std::string> qemu_snapshot_names(const std::string& image) {
  std::vector<std::string> out;
  const nlohmann::json j = qemu_img_json({"info", image}, dir_of(image));
  if (j.is_object() && j.contains("snapshots"))
    for (const auto& s : j["snapshots"]) out.push_back(s.value("name", "?"));
  return out;
}

// An image with snapshots s1, s2 and s3 and different data written before, between and after
// them (rewrites of the same guest clusters, so the snapshots share some clusters and not
// others), and what QEMU reads from it: the active data and each snapshot's.
struct Made {
  std::string path;
  std::map<std::string, std::string> hash;  // "" = active, else snapshot name
  std::map<std::string, std::vector<uint8_t>> entries;
  std::string sha;  // of the whole file
};

bool write(const std::string& p, const std::vector<std::string>& io) { return qemu_io(p, io); }

Made make(const TempDir& dir, const Variant& v, const std::vector<std::string>& snaps = {"s1", "s2", "s3"},
          const std::string& file = "img.qcow2") {
  Made m;
  const std::string p = dir.file(file);
  if (!make_image(p, "8M", v.options)) return m;
  if (v.bitmap) {
    CommandResult r = qemu_img({"bitmap", "--add", p, kBitmapName}, dir.path());
    if (!r.ok()) {
      ADD_FAILURE() << r.describe();
      return m;
    }
  }
  // Writes between the snapshots: each rewrites some of what the one before wrote.
  const std::vector<std::vector<std::string>> io = {
      {"write -P 0x11 0 64k", "write -P 0x12 1M 64k", "write -P 0x13 5M 32k"},
      {"write -P 0x21 0 32k", "write -P 0x22 2M 64k"},
      {"write -P 0x31 16k 64k", "write -P 0x32 1M 8k", "write -P 0x33 7M 64k"},
      {"write -P 0x41 5M 4k", "write -P 0x42 3M 64k"},
  };
  size_t step = 0;
  if (v.data_before_snapshots && !write(p, io[step++])) return m;
  for (const std::string& s : snaps) {
    CommandResult r = qemu_img({"snapshot", "-c", s, p}, dir.path());
    if (!r.ok()) {
      ADD_FAILURE() << r.describe();
      return m;
    }
    if (v.data_before_snapshots && step < io.size() && !write(p, io[step++])) return m;
  }
  if (!v.data_before_snapshots)
    for (const auto& cmds : io)
      if (!write(p, cmds)) return m;
  m.hash[""] = guest_hash(p);
  for (const std::string& s : snaps) m.hash[s] = guest_hash(p, s);
  m.entries = entries_of(p);
  m.sha = sha256_file(p);
  m.path = p;
  return m;
}

// The repair through one front; returns the journal it wrote ("" if none).
struct Ran {
  bool ok = false;
  std::string journal;
  std::vector<std::string> remaining;
  std::string output;
};

RepairCommand command(RepairKind kind, const std::string& snap, bool destructive = false) {
  RepairCommand cmd;
  cmd.kind = kind;
  cmd.snapshot = snap;
  cmd.destructive = destructive;
  return cmd;
}

std::vector<std::string> cli_args(const RepairCommand& cmd) {
  std::vector<std::string> a;
  switch (cmd.kind) {
    case RepairKind::kDelete: a = {"-D", cmd.snapshot}; break;
    case RepairKind::kKeepOnly: a = {"-E", cmd.snapshot}; break;
    case RepairKind::kRevert: a = {"-A", cmd.snapshot}; break;
    case RepairKind::kAll: a = {"-R", "all"}; break;
    default: ADD_FAILURE() << "no CLI form for this command"; break;
  }
  if (cmd.destructive) a.push_back("--destructive");
  if (cmd.dry_run) a.push_back("--dry-run");
  return a;
}

Ran run_front(Front front, const std::string& image, const RepairCommand& cmd, const std::string& journal,
              int want_exit = 0) {
  Ran r;
  r.journal = journal;
  if (front == Front::kEngine) {
    RepairOptions ro;
    ro.journal = journal;
    auto out = run_repair(image, cmd, ro);
    if (!out.ok()) {
      ADD_FAILURE() << "run_repair: " << out.status().message();
      return r;
    }
    EXPECT_TRUE(out->applied);
    EXPECT_EQ(exit_code(out->after.status), want_exit) << status_word(out->after.status);
    r.remaining = out->plan.remaining;
    for (const std::string& s : out->plan.skipped) r.output += s + "\n";
    r.ok = out->applied;
  } else {
    std::vector<std::string> args = cli_args(cmd);
    args.insert(args.end(), {"--journal", journal, image});
    CommandResult c = run_dump(args);
    EXPECT_EQ(c.exit_code, want_exit) << c.describe();
    EXPECT_NE(c.out.find("applied; undo journal"), std::string::npos) << c.out;
    r.output = c.out;
    r.ok = c.exit_code == want_exit && std::filesystem::exists(journal);
  }
  return r;
}

// What a dry run of `cmd` plans now (through the engine), or its refusal.
Result<Plan> dry_plan(const std::string& image, RepairCommand cmd) {
  cmd.dry_run = true;
  auto out = run_repair(image, cmd, {});
  if (!out.ok()) return out.status();
  return std::move(out->plan);
}

void expect_qemu_clean(const std::string& image) {
  const QemuCheck q = qemu_check(image);
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_TRUE(q.ran) << q.err;
  EXPECT_EQ(q.leaks, 0u) << q.err;
  EXPECT_EQ(q.corruptions, 0u) << q.err;
}

void expect_we_say_good(const std::string& image) {
  Checked c = check_file(image);
  ASSERT_TRUE(c.ok);
  QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
}

// -R all has nothing to do, through the engine and the CLI (whose exit status is the image's,
// `want_exit`).
void expect_repair_all_empty(const std::string& image, int want_exit = 0) {
  auto plan = dry_plan(image, command(RepairKind::kAll, ""));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_TRUE(plan->empty()) << plan->edits.size() << " edits, first: " << (plan->edits.empty() ? "" : plan->edits[0].why);
  CommandResult c = run_dump({"-R", "all", "--dry-run", image});
  EXPECT_EQ(c.exit_code, want_exit) << c.describe();
  EXPECT_NE(c.out.find("edits: 0\n"), std::string::npos) << c.out;
}

// The journal puts the file back byte for byte (through qcow2-dump --undo).
void expect_undo_restores(const std::string& image, const std::string& journal, const std::string& sha_before) {
  ASSERT_FALSE(journal.empty());
  CommandResult c = run_dump({"--undo", journal, "--journal", journal + ".undo", image});
  EXPECT_LT(c.exit_code, 64) << c.describe();
  EXPECT_EQ(sha256_file(image), sha_before) << "the undo did not restore the file";
}

// Clean for qemu-img and for us.
void expect_clean(const std::string& image) {
  expect_qemu_clean(image);
  expect_we_say_good(image);
}

// The end of every snapshot repair: -R all then has nothing to do, and the journal puts the
// bytes back as they were before the repair.
void expect_settled_then_undone(const std::string& image, const std::string& journal, const std::string& sha_before) {
  expect_repair_all_empty(image);
  expect_undo_restores(image, journal, sha_before);
}

// The image has exactly the snapshots `kept` (in this order), each entry byte for byte as it
// was, and QEMU reads each one's data and the active data as before.
void expect_kept(const Made& m, const std::vector<std::string>& kept, const std::string& active_hash) {
  EXPECT_EQ(qemu_snapshot_names(m.path), kept);
  const auto entries = entries_of(m.path);
  EXPECT_EQ(entries.size(), kept.size());
  for (const std::string& s : kept) {
    ASSERT_TRUE(entries.count(s)) << s;
    EXPECT_EQ(entries.at(s), m.entries.at(s)) << "entry " << s << " changed";
    EXPECT_EQ(guest_hash(m.path, s), m.hash.at(s)) << "snapshot " << s << " reads differently";
  }
  EXPECT_EQ(guest_hash(m.path), active_hash) << "the active image reads differently";
}

using Param = std::tuple<Variant, Front>;

class SnapshotRepair : public ::testing::TestWithParam<Param> {
 protected:
  const Variant& variant() const { return std::get<0>(GetParam()); }
  Front front() const { return std::get<1>(GetParam()); }
};

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return std::get<0>(info.param).name + "_" + front_name(std::get<1>(info.param));
}

// -D s2: the middle snapshot goes; s1, s3 and the active image stay exactly as they were.
TEST_P(SnapshotRepair, DeleteOne) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variant());
  ASSERT_FALSE(m.path.empty());
  const RepairCommand cmd = command(RepairKind::kDelete, "s2");
  auto plan = dry_plan(m.path, cmd);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->risk(), Risk::kDestructive);
  EXPECT_TRUE(plan->remaining.empty()) << plan->remaining.front();
  EXPECT_EQ(sha256_file(m.path), m.sha) << "a dry run wrote";

  const Ran r = run_front(front(), m.path, cmd, dir.file("delete.journal"));
  ASSERT_TRUE(r.ok) << r.output;
  expect_clean(m.path);
  expect_kept(m, {"s1", "s3"}, m.hash.at(""));
  // Again: the snapshot is gone.
  auto again = dry_plan(m.path, cmd);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kNotFound) << again.status().message();
  CommandResult c = run_dump({"-D", "s2", "--dry-run", m.path});
  EXPECT_EQ(c.exit_code, 64) << c.describe();
  EXPECT_NE(c.err.find("no snapshot has the id or name 's2'"), std::string::npos) << c.err;
  expect_settled_then_undone(m.path, r.journal, m.sha);
}

// -E s2: s1 and s3 go, s2 stays; a second -E s2 has nothing to do.
TEST_P(SnapshotRepair, KeepOnly) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variant());
  ASSERT_FALSE(m.path.empty());
  const RepairCommand cmd = command(RepairKind::kKeepOnly, "s2");
  const Ran r = run_front(front(), m.path, cmd, dir.file("keep.journal"));
  ASSERT_TRUE(r.ok) << r.output;
  expect_clean(m.path);
  expect_kept(m, {"s2"}, m.hash.at(""));
  auto again = dry_plan(m.path, cmd);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->empty());
  CommandResult c = run_dump({"-E", "s2", "--dry-run", m.path});
  EXPECT_EQ(c.exit_code, 0) << c.describe();
  EXPECT_NE(c.out.find("edits: 0\n"), std::string::npos) << c.out;
  expect_settled_then_undone(m.path, r.journal, m.sha);
}

// -D all: no snapshot, no table, nothing leaked.
TEST_P(SnapshotRepair, DeleteAll) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variant());
  ASSERT_FALSE(m.path.empty());
  const RepairCommand cmd = command(RepairKind::kDelete, "all");
  const Ran r = run_front(front(), m.path, cmd, dir.file("all.journal"));
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(peek(m.path, 60, 4), 0u);
  EXPECT_EQ(peek(m.path, 64, 8), 0u);
  expect_clean(m.path);
  expect_kept(m, {}, m.hash.at(""));
  auto again = dry_plan(m.path, cmd);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->empty());
  // -E 0 is the same: nothing left to do either.
  auto none = dry_plan(m.path, command(RepairKind::kKeepOnly, "0"));
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());
  expect_settled_then_undone(m.path, r.journal, m.sha);
}

// -E 0 is -D all: every snapshot goes, through the CLI on a version 2 image too.
TEST(SnapshotKeepNone, RemovesEverySnapshot) {
  QCOW2_SKIP_WITHOUT_QEMU();
  for (const Variant& v : {variants()[0], variants()[1]}) {
    SCOPED_TRACE(v.name);
    TempDir dir;
    const Made m = make(dir, v);
    ASSERT_FALSE(m.path.empty());
    const Ran r = run_front(Front::kCli, m.path, command(RepairKind::kKeepOnly, "0"), dir.file("none.journal"));
    ASSERT_TRUE(r.ok) << r.output;
    EXPECT_EQ(peek(m.path, 60, 4), 0u);
    EXPECT_EQ(peek(m.path, 64, 8), 0u);
    expect_clean(m.path);
    expect_kept(m, {}, m.hash.at(""));
    expect_settled_then_undone(m.path, r.journal, m.sha);
  }
}

// -A s1: the active image reads what s1 held (as after qemu-img snapshot -a, which the test
// compares with qemu-img compare), and s1 now holds the old active state; the other entries
// stay byte for byte. The same revert again swaps back.
TEST_P(SnapshotRepair, Revert) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variant());
  ASSERT_FALSE(m.path.empty());
  // QEMU's own revert on a copy, where QEMU allows one (not with a dirty bitmap).
  const std::string theirs = dir.file("qemu.qcow2");
  std::filesystem::copy_file(m.path, theirs);
  CommandResult q = qemu_img({"snapshot", "-a", "s1", theirs}, dir.path());
  if (variant().bitmap) {
    EXPECT_NE(q.exit_code, 0) << "qemu-img reverted with a dirty bitmap";
  } else {
    ASSERT_TRUE(q.ok()) << q.describe();
  }

  const RepairCommand cmd = command(RepairKind::kRevert, "s1");
  const Ran r = run_front(front(), m.path, cmd, dir.file("revert.journal"));
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_TRUE(r.remaining.empty()) << r.remaining.front();
  expect_clean(m.path);
  EXPECT_EQ(guest_hash(m.path), m.hash.at("s1"));
  if (!variant().bitmap) {
    CommandResult cmp = qemu_img({"compare", "-f", "qcow2", "-F", "qcow2", theirs, m.path}, dir.path());
    EXPECT_EQ(cmp.exit_code, 0) << cmp.describe();
  }
  // s1 holds the old active state; s2 and s3 are untouched.
  EXPECT_EQ(qemu_snapshot_names(m.path), (std::vector<std::string>{"s1", "s2", "s3"}));
  EXPECT_EQ(guest_hash(m.path, "s1"), m.hash.at(""));
  EXPECT_EQ(guest_hash(m.path, "s2"), m.hash.at("s2"));
  EXPECT_EQ(guest_hash(m.path, "s3"), m.hash.at("s3"));
  const auto entries = entries_of(m.path);
  EXPECT_EQ(entries.at("s2"), m.entries.at("s2"));
  EXPECT_EQ(entries.at("s3"), m.entries.at("s3"));
  // s1's entry: only the L1 pointer and size (bytes 0..11) changed.
  const std::vector<uint8_t>& was = m.entries.at("s1");
  const std::vector<uint8_t>& now = entries.at("s1");
  ASSERT_EQ(was.size(), now.size());
  EXPECT_NE(std::vector<uint8_t>(was.begin(), was.begin() + 12), std::vector<uint8_t>(now.begin(), now.begin() + 12));
  EXPECT_EQ(std::vector<uint8_t>(was.begin() + 12, was.end()), std::vector<uint8_t>(now.begin() + 12, now.end()));
  if (variant().bitmap) {
    // The bitmap no longer says what changed: QEMU must not trust it.
    Checked c = check_file(m.path);
    EXPECT_TRUE(c.has("bitmap-in-use")) << c.describe();
  }
  expect_repair_all_empty(m.path);
  // A revert is a swap: the same command again swaps back, and the image reads as at first.
  auto again = dry_plan(m.path, cmd);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_FALSE(again->empty());
  EXPECT_TRUE(again->remaining.empty()) << again->remaining.front();
  expect_undo_restores(m.path, r.journal, m.sha);
}

INSTANTIATE_TEST_SUITE_P(Variants, SnapshotRepair,
                         ::testing::Combine(::testing::ValuesIn(variants()),
                                            ::testing::Values(Front::kEngine, Front::kCli)),
                         param_name);

// Reverting twice swaps back: the active data and s1's are as at first, and the check is clean.
TEST(SnapshotRevert, TwiceSwapsBack) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variants()[0]);
  ASSERT_FALSE(m.path.empty());
  const uint64_t l1 = peek(m.path, 40, 8);
  ASSERT_TRUE(run_front(Front::kEngine, m.path, command(RepairKind::kRevert, "s1"), dir.file("j1")).ok);
  EXPECT_NE(peek(m.path, 40, 8), l1);
  ASSERT_TRUE(run_front(Front::kCli, m.path, command(RepairKind::kRevert, "s1"), dir.file("j2")).ok);
  EXPECT_EQ(peek(m.path, 40, 8), l1);
  EXPECT_EQ(guest_hash(m.path), m.hash.at(""));
  EXPECT_EQ(guest_hash(m.path, "s1"), m.hash.at("s1"));
  expect_clean(m.path);
}

// A snapshot taken at another disk size (4 KiB clusters, so the L1 sizes differ too): QEMU's
// revert gives the image the snapshot's size, and so does ours; the entry keeps the old size
// with the old L1, so that reverting to it again gives the larger disk back.
TEST(SnapshotRevert, DiskSizeFollowsTheSnapshot) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = dir.file("img.qcow2");
  ASSERT_TRUE(make_image(p, "4M", {"cluster_size=4096"}));
  ASSERT_TRUE(qemu_io(p, {"write -P 0x11 0 64k"}));
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "small", p}, dir.path()).ok());
  ASSERT_TRUE(qemu_img({"resize", p, "32M"}, dir.path()).ok());
  ASSERT_TRUE(qemu_io(p, {"write -P 0x22 0 64k", "write -P 0x23 20M 64k"}));
  ASSERT_NE(peek(p, 36, 4), 2u);  // the L1 grew (2 entries map 4 MiB)
  const std::string big = guest_hash(p);
  const std::string sha = sha256_file(p);
  const std::string theirs = dir.file("qemu.qcow2");
  std::filesystem::copy_file(p, theirs);
  ASSERT_TRUE(qemu_img({"snapshot", "-a", "small", theirs}, dir.path()).ok());

  const Ran r = run_front(Front::kCli, p, command(RepairKind::kRevert, "small"), dir.file("j"));
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(peek(p, 24, 8), 4u << 20);
  EXPECT_EQ(peek(theirs, 24, 8), 4u << 20);
  EXPECT_EQ(peek(p, 36, 4), 2u);
  // (qemu-img convert -l reads a snapshot at the image's size, not the snapshot's: `small`
  // was read at 32 MiB. What the guest sees is compared with QEMU's revert and by pattern.)
  EXPECT_TRUE(qemu_io(p, {"read -P 0x11 0 64k", "read -P 0 64k 4032k"}, {"-r"}));
  CommandResult cmp = qemu_img({"compare", "-f", "qcow2", "-F", "qcow2", theirs, p}, dir.path());
  EXPECT_EQ(cmp.exit_code, 0) << cmp.describe();
  expect_clean(p);
  // The entry now holds the 32 MiB disk: reverting to it (with QEMU) gives it back.
  const std::string again = dir.file("again.qcow2");
  std::filesystem::copy_file(p, again);
  ASSERT_TRUE(qemu_img({"snapshot", "-a", "small", again}, dir.path()).ok());
  EXPECT_EQ(peek(again, 24, 8), 32u << 20);
  EXPECT_EQ(guest_hash(again), big);
  expect_undo_restores(p, r.journal, sha);
}

// The same with a persistent bitmap: its table fits only the disk it has, so the revert is
// refused and nothing is written.
TEST(SnapshotRevert, DiskSizeChangeRefusedWithBitmaps) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = dir.file("img.qcow2");
  ASSERT_TRUE(make_image(p, "4M"));
  ASSERT_TRUE(qemu_img({"snapshot", "-c", "small", p}, dir.path()).ok());
  ASSERT_TRUE(qemu_img({"resize", p, "32M"}, dir.path()).ok());
  ASSERT_TRUE(qemu_img({"bitmap", "--add", p, kBitmapName}, dir.path()).ok());
  const std::string sha = sha256_file(p);
  auto plan = dry_plan(p, command(RepairKind::kRevert, "small"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), Code::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("bitmap"), std::string::npos) << plan.status().message();
  CommandResult c = run_dump({"-A", "small", "--journal", dir.file("never"), p});
  EXPECT_EQ(c.exit_code, 64) << c.describe();
  EXPECT_EQ(sha256_file(p), sha);
}

// The active L1 damaged (entries 0 and 1 of a 4 KiB-cluster image turned to unaligned
// garbage): QEMU's revert fails or leaves a damaged image; ours gives the active image s1's
// data, the damage now sits in s1 (plan.remaining says so), and deleting that snapshot
// afterwards leaves a clean image.
TEST(SnapshotRevert, RescuesFromDamagedActiveL1) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  Variant v{"cluster_4k", {"cluster_size=4096"}};
  const Made m = make(dir, v, {"s1"});
  ASSERT_FALSE(m.path.empty());
  const uint64_t l1 = peek(m.path, 40, 8);
  ASSERT_NE(peek(m.path, l1, 8), 0u);
  ASSERT_NE(peek(m.path, l1 + 8, 8), 0u);
  ASSERT_TRUE(poke(m.path, l1, 8, 0x8000000000123456ULL));
  ASSERT_TRUE(poke(m.path, l1 + 8, 8, 0x00000000deadbe00ULL));
  const std::string sha = sha256_file(m.path);
  {
    Checked c = check_file(m.path);
    ASSERT_TRUE(c.ok);
    EXPECT_EQ(c.res.status, ImageStatus::kCorrupt) << c.describe();
  }
  // QEMU on a copy: it refuses, or what it leaves does not check clean with s1's data.
  const std::string theirs = dir.file("qemu.qcow2");
  std::filesystem::copy_file(m.path, theirs);
  CommandResult q = qemu_img({"snapshot", "-a", "s1", theirs}, dir.path());
  if (q.ok()) {
    const QemuCheck qc = qemu_check(theirs);
    EXPECT_FALSE(qc.exit_code == 0 && guest_hash(theirs) == m.hash.at("s1"))
        << "qemu-img snapshot -a rescued the image as well: the test no longer shows what ours adds";
  }

  auto plan = dry_plan(m.path, command(RepairKind::kRevert, "s1"));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const Ran r = run_front(Front::kEngine, m.path, command(RepairKind::kRevert, "s1"), dir.file("revert.journal"),
                          exit_code(ImageStatus::kCorrupt));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(guest_hash(m.path), m.hash.at("s1"));
  // What is left is the damage, now in the swapped snapshot's L1 (the garbage entries), and
  // the leaks it hides (the tables and data only those entries reached): no COPIED flag.
  ASSERT_FALSE(r.remaining.empty());
  for (const std::string& s : r.remaining)
    EXPECT_TRUE(s.rfind("l1-", 0) == 0 || s.rfind("refcount-leak", 0) == 0) << s;
  {
    Checked c = check_file(m.path);
    ASSERT_TRUE(c.ok);
    size_t l1_findings = 0;
    for (const Finding& f : c.res.findings) {
      if (f.code.rfind("l1-", 0) != 0) continue;
      ++l1_findings;
      EXPECT_NE(f.table.find("snapshot"), std::string::npos) << f.table << ": " << f.message;
    }
    EXPECT_EQ(l1_findings, 3u) << c.describe();  // reserved bits and unaligned (entry 0), unaligned (entry 1)
    EXPECT_FALSE(c.has("copied-l1") || c.has("copied-l2")) << c.describe();
  }
  // Then the swapped snapshot goes. Its lost L2 table and data hold data the check cannot
  // place: only --destructive frees them.
  auto held = dry_plan(m.path, command(RepairKind::kDelete, "s1"));
  ASSERT_TRUE(held.ok()) << held.status().message();
  EXPECT_FALSE(held->skipped.empty());
  EXPECT_FALSE(held->remaining.empty());
  const Ran d = run_front(Front::kCli, m.path, command(RepairKind::kDelete, "s1", true), dir.file("delete.journal"));
  ASSERT_TRUE(d.ok) << d.output;
  expect_clean(m.path);
  EXPECT_EQ(guest_hash(m.path), m.hash.at("s1"));
  EXPECT_TRUE(qemu_snapshot_names(m.path).empty());
  expect_repair_all_empty(m.path);
  // Both undone, newest first: the damaged file as it was.
  CommandResult u = run_dump({"--undo", d.journal, "--journal", d.journal + ".undo", m.path});
  EXPECT_LT(u.exit_code, 64) << u.describe();
  EXPECT_EQ(guest_hash(m.path), m.hash.at("s1"));
  expect_undo_restores(m.path, r.journal, sha);
}

// A table whose entries after the first are garbage (entry 1's extra_data_size over QEMU's
// limit, so neither it nor entry 2 can be read, and qemu-img cannot open the image): -E s1
// keeps s1 byte for byte and drops the rest. What only the unreadable snapshots used cannot
// be told from what a damaged entry lost, so it stays leaked unless --destructive.
TEST(SnapshotTableDamaged, KeepOnlyTheGoodEntry) {
  QCOW2_SKIP_WITHOUT_QEMU();
  for (const bool destructive : {false, true}) {
    SCOPED_TRACE(destructive ? "destructive" : "not destructive");
    TempDir dir;
    const Made m = make(dir, variants()[0]);
    ASSERT_FALSE(m.path.empty());
    const uint64_t entry1 = m.entries.at("s1").size() + peek(m.path, 64, 8);
    ASSERT_TRUE(poke(m.path, entry1 + 36, 4, 0x7fffffff));
    const std::string sha = sha256_file(m.path);
    EXPECT_NE(qemu_img({"info", m.path}, dir.path()).exit_code, 0) << "QEMU opens the damaged table";
    {
      Checked c = check_file(m.path);
      ASSERT_TRUE(c.ok);
      EXPECT_EQ(c.res.status, ImageStatus::kSnapshotDamaged) << c.describe();
    }
    const RepairCommand cmd = command(RepairKind::kKeepOnly, "s1", destructive);
    auto plan = dry_plan(m.path, cmd);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    const Ran r = run_front(destructive ? Front::kCli : Front::kEngine, m.path, cmd, dir.file("keep.journal"),
                            destructive ? 0 : exit_code(ImageStatus::kLeak));
    ASSERT_TRUE(r.ok) << r.output;
    expect_kept(m, {"s1"}, m.hash.at(""));
    const QemuCheck q = qemu_check(m.path);
    ASSERT_TRUE(q.ran) << q.err;
    EXPECT_EQ(q.corruptions, 0u) << q.err;
    Checked c = check_file(m.path);
    ASSERT_TRUE(c.ok);
    if (destructive) {
      EXPECT_EQ(q.leaks, 0u) << q.err;
      QCOW2_EXPECT_STATUS(c, ImageStatus::kGood, 0);
      EXPECT_TRUE(r.remaining.empty());
    } else {
      // s2's and s3's L1 tables and what only they used: leaks that hold data, said so.
      EXPECT_GT(q.leaks, 0u);
      EXPECT_EQ(c.res.stats.leaks, q.leaks) << c.describe();
      QCOW2_EXPECT_STATUS(c, ImageStatus::kLeak, 1);
      ASSERT_FALSE(r.remaining.empty());
      for (const std::string& s : r.remaining) EXPECT_EQ(s.rfind("refcount-leak", 0), 0u) << s;
      EXPECT_NE(r.output.find("hold data"), std::string::npos) << r.output;
      // Nothing more to plan without --destructive; with it, -R all frees them.
      expect_repair_all_empty(m.path, exit_code(ImageStatus::kLeak));
      const Ran all = run_front(Front::kCli, m.path, command(RepairKind::kAll, "", true), dir.file("all.journal"));
      ASSERT_TRUE(all.ok) << all.output;
      expect_qemu_clean(m.path);
      expect_kept(m, {"s1"}, m.hash.at(""));
      CommandResult u = run_dump({"--undo", all.journal, "--journal", all.journal + ".undo", m.path});
      EXPECT_LT(u.exit_code, 64) << u.describe();
    }
    auto again = dry_plan(m.path, cmd);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_TRUE(again->empty());
    expect_undo_restores(m.path, r.journal, sha);
  }
}

// The same damage, and -D s1: the only readable snapshot goes and the unreadable ones with it.
TEST(SnapshotTableDamaged, DeleteTheGoodEntry) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variants()[0]);
  ASSERT_FALSE(m.path.empty());
  const uint64_t entry1 = m.entries.at("s1").size() + peek(m.path, 64, 8);
  ASSERT_TRUE(poke(m.path, entry1 + 36, 4, 0x7fffffff));
  const std::string sha = sha256_file(m.path);
  const Ran r = run_front(Front::kEngine, m.path, command(RepairKind::kDelete, "s1", true), dir.file("d.journal"));
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(peek(m.path, 60, 4), 0u);
  EXPECT_EQ(peek(m.path, 64, 8), 0u);
  expect_clean(m.path);
  expect_kept(m, {}, m.hash.at(""));
  expect_repair_all_empty(m.path);
  auto again = dry_plan(m.path, command(RepairKind::kDelete, "s1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kNotFound);
  expect_undo_restores(m.path, r.journal, sha);
}

// The last entry damaged (s3's name length past the end of the file): -D s1 keeps s2 byte for
// byte, drops s1 and the unreadable s3, and says so in the plan.
TEST(SnapshotTableDamaged, DeleteWithTheLastEntryUnreadable) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variants()[0]);
  ASSERT_FALSE(m.path.empty());
  const uint64_t entry2 = peek(m.path, 64, 8) + m.entries.at("s1").size() + m.entries.at("s2").size();
  ASSERT_TRUE(poke(m.path, entry2 + 36, 4, 2000));  // extra_data_size over 1024
  const std::string sha = sha256_file(m.path);
  auto plan = dry_plan(m.path, command(RepairKind::kDelete, "s1", true));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  bool says = false;
  for (const Edit& e : plan->edits) says |= e.why.find("cannot be read and are dropped") != std::string::npos;
  EXPECT_TRUE(says);
  const Ran r = run_front(Front::kCli, m.path, command(RepairKind::kDelete, "s1", true), dir.file("d.journal"));
  ASSERT_TRUE(r.ok) << r.output;
  expect_clean(m.path);
  expect_kept(m, {"s2"}, m.hash.at(""));
  expect_undo_restores(m.path, r.journal, sha);
}

// A snapshot whose L1 pointer is damaged (moved 512 bytes on): the check's advice is to
// delete it. Its real L1 table and what only it used are unreachable: kept as leaks that hold
// data unless --destructive, which frees them; s2, s3 and the active image stay as they were.
TEST(SnapshotL1Damaged, DeleteTheSnapshot) {
  QCOW2_SKIP_WITHOUT_QEMU();
  for (const bool destructive : {false, true}) {
    SCOPED_TRACE(destructive ? "destructive" : "not destructive");
    TempDir dir;
    const Made m = make(dir, variants()[0]);
    ASSERT_FALSE(m.path.empty());
    const uint64_t entry0 = peek(m.path, 64, 8);
    ASSERT_TRUE(poke(m.path, entry0, 8, peek(m.path, entry0, 8) + 0x200));
    const std::string sha = sha256_file(m.path);
    {
      Checked c = check_file(m.path);
      ASSERT_TRUE(c.ok);
      EXPECT_TRUE(c.has("snapshot-l1")) << c.describe();
    }
    const RepairCommand cmd = command(RepairKind::kDelete, "s1", destructive);
    const Ran r = run_front(Front::kEngine, m.path, cmd, dir.file("d.journal"), destructive ? 0 : exit_code(ImageStatus::kLeak));
    ASSERT_TRUE(r.ok) << r.output;
    Made kept = m;
    kept.entries.erase("s1");
    expect_kept(m, {"s2", "s3"}, m.hash.at(""));
    const QemuCheck q = qemu_check(m.path);
    ASSERT_TRUE(q.ran) << q.err;
    EXPECT_EQ(q.corruptions, 0u) << q.err;
    if (destructive) {
      EXPECT_EQ(q.leaks, 0u) << q.err;
      expect_we_say_good(m.path);
    } else {
      EXPECT_GT(q.leaks, 0u) << q.err;
      EXPECT_NE(r.output.find("hold data"), std::string::npos) << r.output;
      for (const std::string& s : r.remaining) EXPECT_EQ(s.rfind("refcount-leak", 0), 0u) << s;
    }
    expect_repair_all_empty(m.path, destructive ? 0 : exit_code(ImageStatus::kLeak));
    expect_undo_restores(m.path, r.journal, sha);
  }
}

// Matching SNAP: by id before name, by name, by snapshot[N]; never by prefix; a shared name
// is refused as ambiguous, an unknown one as not found, and neither changes a byte.
TEST(SnapshotMatch, IdThenNameThenIndex) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  // Ids 1, 2, 3; names "2", "1", "long-name".
  const Made m = make(dir, variants()[0], {"2", "1", "long-name"});
  ASSERT_FALSE(m.path.empty());
  const auto removed = [&](const std::string& snap) -> std::string {
    auto plan = dry_plan(m.path, command(RepairKind::kDelete, snap));
    if (!plan.ok()) return "refused: " + plan.status().message();
    for (const Edit& e : plan->edits)
      if (e.offset == 60) return e.why;
    return "no header edit";
  };
  // "1" is snapshot id 1, whose name is "2".
  EXPECT_NE(removed("1").find("snapshots removed: snapshot[0] (id '1', name '2')"), std::string::npos) << removed("1");
  EXPECT_NE(removed("2").find("snapshots removed: snapshot[1] (id '2', name '1')"), std::string::npos) << removed("2");
  EXPECT_NE(removed("long-name").find("snapshots removed: snapshot[2] (id '3'"), std::string::npos);
  EXPECT_NE(removed("snapshot[2]").find("snapshots removed: snapshot[2] (id '3'"), std::string::npos);
  EXPECT_NE(removed("snapshot[0]").find("snapshots removed: snapshot[0] (id '1'"), std::string::npos);
  for (const char* bad : {"long", "long-nam", "3x", "snapshot[3]", "snapshot[]", "snapshot[-1]", "", "s"}) {
    auto plan = dry_plan(m.path, command(RepairKind::kDelete, bad));
    ASSERT_FALSE(plan.ok()) << bad;
    EXPECT_EQ(plan.status().code(), Code::kNotFound) << bad << ": " << plan.status().message();
    EXPECT_NE(plan.status().message().find("long-name"), std::string::npos) << plan.status().message();
  }
  for (const char* flag : {"-A", "-D", "-E"}) {
    CommandResult c = run_dump({flag, "long", m.path});
    EXPECT_EQ(c.exit_code, 64) << c.describe();
  }
  EXPECT_EQ(sha256_file(m.path), m.sha);
}

TEST(SnapshotMatch, SharedNameIsAmbiguous) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variants()[0], {"twin", "twin", "other"});
  ASSERT_FALSE(m.path.empty());
  for (const RepairKind kind : {RepairKind::kDelete, RepairKind::kKeepOnly, RepairKind::kRevert}) {
    auto plan = dry_plan(m.path, command(kind, "twin"));
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.status().code(), Code::kInvalidArgument);
    EXPECT_NE(plan.status().message().find("ambiguous"), std::string::npos) << plan.status().message();
    EXPECT_NE(plan.status().message().find("use the id"), std::string::npos) << plan.status().message();
  }
  for (const char* flag : {"-A", "-D", "-E"}) {
    CommandResult c = run_dump({flag, "twin", "--journal", dir.file("never"), m.path});
    EXPECT_EQ(c.exit_code, 64) << c.describe();
    EXPECT_NE(c.err.find("ambiguous"), std::string::npos) << c.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("never")));
  EXPECT_EQ(sha256_file(m.path), m.sha);
  // By id it works: the second twin goes, the first stays byte for byte.
  const Ran r = run_front(Front::kEngine, m.path, command(RepairKind::kDelete, "2"), dir.file("j"));
  ASSERT_TRUE(r.ok);
  expect_qemu_clean(m.path);
  const auto entries = entries_of(m.path);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries.at("twin"), m.entries.at("twin"));  // both maps hold the first twin
  EXPECT_EQ(entries.at("other"), m.entries.at("other"));
  EXPECT_EQ(guest_hash(m.path, "twin"), m.hash.at("twin"));
  EXPECT_EQ(guest_hash(m.path, "other"), m.hash.at("other"));
  EXPECT_EQ(qemu_snapshot_names(m.path), (std::vector<std::string>{"twin", "other"}));
}

// No snapshots: -D SNAP and -E SNAP are refused, -D all and -E 0 have nothing to do.
TEST(SnapshotMatch, NoSnapshots) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const Made m = make(dir, variants()[0], {});
  ASSERT_FALSE(m.path.empty());
  for (const RepairKind kind : {RepairKind::kDelete, RepairKind::kKeepOnly, RepairKind::kRevert}) {
    auto plan = dry_plan(m.path, command(kind, "s1"));
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.status().code(), Code::kNotFound);
  }
  auto all = dry_plan(m.path, command(RepairKind::kDelete, "all"));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  auto none = dry_plan(m.path, command(RepairKind::kKeepOnly, "0"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(sha256_file(m.path), m.sha);
}

}  // namespace
}  // namespace qcow2::test
