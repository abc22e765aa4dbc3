// Checks the snapshot, bitmap and extension parsers against images qemu-img wrote, using
// `qemu-img info --output=json` as the reference.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/format/bitmap.h"
#include "engine/format/extensions.h"
#include "engine/format/snapshot.h"
#include "engine/io/image.h"

namespace qcow2 {
namespace {

// Line checks without gmock: the test binaries link gtest only.
// As many lines as parts, line i containing part i.
testing::AssertionResult LinesContain(const std::vector<std::string>& lines,
                                      const std::vector<std::string>& parts) {
  bool ok = lines.size() == parts.size();
  for (size_t i = 0; ok && i < lines.size(); ++i) ok = lines[i].find(parts[i]) != std::string::npos;
  if (ok) return testing::AssertionSuccess();
  auto failure = testing::AssertionFailure() << "got " << lines.size() << " lines:";
  for (const auto& l : lines) failure << "\n  " << l;
  failure << "\nwanted " << parts.size() << " containing:";
  for (const auto& p : parts) failure << "\n  " << p;
  return failure;
}

using json = nlohmann::json;

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout only; stderr goes to the test log
};

RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A private directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qcow2fs-format-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class ImageMetadata : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run("qemu-img --version >/dev/null 2>&1").exit_code != 0) GTEST_SKIP() << "no qemu-img";
    ASSERT_TRUE(dir_.ok()) << "mkdtemp failed";
  }

  // Runs qemu-img with `args` inside the temp dir (so relative names stay relative).
  void qemu_img(const std::string& args) {
    const RunResult r = run("cd " + quote(dir_.file("")) + " && qemu-img " + args + " >/dev/null");
    ASSERT_EQ(r.exit_code, 0) << "qemu-img " << args;
  }

  // LUKS creation times its key derivation against the CPU clock and fails with "Unable to get
  // accurate CPU usage" when a loaded machine starves it (this once failed a clean clone).
  // That failure says nothing about the image, so it is retried; any other failure is not.
  void qemu_img_luks(const std::string& args) {
    for (int attempt = 1;; ++attempt) {
      const RunResult r = run("cd " + quote(dir_.file("")) + " && qemu-img " + args + " 2>&1 >/dev/null");
      if (r.exit_code == 0) return;
      const bool timing = r.out.find("accurate CPU usage") != std::string::npos;
      ASSERT_TRUE(timing && attempt < 50) << "qemu-img " << args << ": " << r.out;
      run("sleep 0.2");
    }
  }

  json info(const std::string& name) {
    const RunResult r =
        run("cd " + quote(dir_.file("")) + " && qemu-img info --output=json " + quote(name));
    EXPECT_EQ(r.exit_code, 0) << "qemu-img info " << name;
    return json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  }

  std::unique_ptr<Image> open(const std::string& name) {
    auto img = Image::open(dir_.file(name));
    EXPECT_TRUE(img.ok()) << img.status().message();
    return img.ok() ? std::move(img).value() : nullptr;
  }

  TempDir dir_;
};

// L1 entries QEMU gives a disk of `size` bytes with standard (8-byte) L2 entries.
uint64_t l1_entries(uint64_t size, uint32_t cluster_bits) {
  const uint64_t per_l1 = (1ULL << (cluster_bits - 3)) << cluster_bits;
  return (size + per_l1 - 1) / per_l1;
}

void expect_snapshots_match(const Image& img, const json& expected) {
  const SnapshotTable& t = img.snapshots();
  ASSERT_TRUE(t.ok()) << t.error;
  ASSERT_EQ(t.snapshots.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    const Snapshot& s = t.snapshots[i];
    const json& e = expected[i];
    EXPECT_EQ(s.id, e["id"].get<std::string>());
    EXPECT_EQ(s.name, e["name"].get<std::string>());
    EXPECT_EQ(s.date_sec, e["date-sec"].get<uint64_t>());
    EXPECT_EQ(s.date_nsec, e["date-nsec"].get<uint64_t>());
    EXPECT_EQ(s.vm_clock_nsec, e["vm-clock-sec"].get<uint64_t>() * 1000000000ULL +
                                   e["vm-clock-nsec"].get<uint64_t>());
    EXPECT_EQ(s.vm_state_bytes(), e["vm-state-size"].get<uint64_t>());
    if (e.contains("icount")) {
      EXPECT_EQ(s.icount, e["icount"].get<uint64_t>());
    }
    EXPECT_EQ(s.entry_bytes % 8, 0u);
    EXPECT_EQ(s.extra_data.size(), s.extra_data_size);
  }
}

TEST_F(ImageMetadata, SnapshotsBitmapsAndBackingMatchQemuImg) {
  constexpr uint32_t kClusterBits = 12;
  qemu_img("create -f qcow2 base.qcow2 64M");
  qemu_img("create -f qcow2 -o cluster_size=4096 -b base.qcow2 -F qcow2 top.qcow2 64M");
  qemu_img("snapshot -c first top.qcow2");
  qemu_img("resize top.qcow2 128M");
  qemu_img("snapshot -c 'second snap' top.qcow2");
  qemu_img("bitmap --add top.qcow2 bm0");
  qemu_img("bitmap --add -g 131072 --disable top.qcow2 bm1");
  const json ref = info("top.qcow2");
  ASSERT_FALSE(ref.is_discarded());
  auto img = open("top.qcow2");
  ASSERT_TRUE(img);
  ASSERT_TRUE(img->walkable()) << img->walk_status().message();

  // Snapshots: what info shows, plus the size each had when it was taken.
  expect_snapshots_match(*img, ref["snapshots"]);
  const auto& snaps = img->snapshots().snapshots;
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[0].name, "first");
  EXPECT_EQ(snaps[0].disk_size, 64ULL << 20);
  EXPECT_EQ(snaps[0].l1_size, l1_entries(64ULL << 20, kClusterBits));
  EXPECT_EQ(snaps[1].name, "second snap");
  EXPECT_EQ(snaps[1].disk_size, ref["virtual-size"].get<uint64_t>());
  EXPECT_EQ(snaps[1].l1_size, l1_entries(128ULL << 20, kClusterBits));
  EXPECT_EQ(snaps[1].l1_size, img->header().l1_size);
  for (const auto& s : snaps) {
    EXPECT_EQ(s.extra_data_size, 24u);  // QEMU writes vm_state_size_large, disk_size, icount
    EXPECT_EQ(s.entry_offset % 8, 0u);
  }
  EXPECT_EQ(snaps[1].entry_offset, snaps[0].entry_offset + snaps[0].entry_bytes);
  EXPECT_EQ(img->snapshots().table_bytes, snaps[0].entry_bytes + snaps[1].entry_bytes);

  // Bitmaps.
  const BitmapDirectory& dir = img->bitmaps();
  ASSERT_TRUE(dir.ok()) << dir.error;
  EXPECT_TRUE(LinesContain(dir.problems, {}));
  const json& ref_bitmaps = ref["format-specific"]["data"]["bitmaps"];
  ASSERT_EQ(dir.bitmaps.size(), ref_bitmaps.size());
  std::map<std::string, const BitmapEntry*> by_name;
  for (const auto& b : dir.bitmaps) by_name[b.name] = &b;
  for (const auto& rb : ref_bitmaps) {
    const std::string name = rb["name"].get<std::string>();
    SCOPED_TRACE(name);
    ASSERT_TRUE(by_name.count(name));
    const BitmapEntry& b = *by_name[name];
    EXPECT_EQ(1ULL << b.granularity_bits, rb["granularity"].get<uint64_t>());
    EXPECT_EQ(b.type, 1u);
    std::vector<std::string> flags;
    for (const auto& f : rb["flags"]) flags.push_back(f.get<std::string>());
    const auto has = [&](const char* f) {
      return std::find(flags.begin(), flags.end(), f) != flags.end();
    };
    EXPECT_EQ((b.flags & kBitmapAuto) != 0, has("auto"));
    EXPECT_EQ((b.flags & kBitmapInUse) != 0, has("in-use"));
    EXPECT_NE(b.table_offset, 0u);
    EXPECT_EQ(b.table_offset % (1ULL << kClusterBits), 0u);
  }
  EXPECT_EQ(by_name.at("bm1")->granularity_bits, 17u);

  // Extensions and the backing file.
  const Extensions& ext = img->extensions();
  EXPECT_TRUE(LinesContain(ext.problems, {}));
  ASSERT_TRUE(ext.bitmaps);
  EXPECT_EQ(ext.bitmaps->nb_bitmaps, 2u);
  EXPECT_EQ(ext.backing_format, ref["backing-filename-format"].get<std::string>());
  EXPECT_EQ(ext.backing_file, ref["backing-filename"].get<std::string>());
  ASSERT_NE(img->backing_file(), nullptr);
  EXPECT_TRUE(img->backing_file()->exists());
  // qemu-img drops the feature name table when it writes a header with a backing file.
  EXPECT_FALSE(ext.all.empty());
  EXPECT_EQ(ext.all.back().type, kExtEnd);
  for (const auto& f : ext.feature_names) EXPECT_EQ(feature_name(ext, f.type, f.bit), f.name);
}

TEST_F(ImageMetadata, Version2Snapshot) {
  qemu_img("create -f qcow2 -o compat=0.10 v2.qcow2 16M");
  qemu_img("snapshot -c s1 v2.qcow2");
  const json ref = info("v2.qcow2");
  ASSERT_FALSE(ref.is_discarded());
  ASSERT_EQ(ref["format-specific"]["data"]["compat"], "0.10");
  auto img = open("v2.qcow2");
  ASSERT_TRUE(img);
  ASSERT_TRUE(img->walkable()) << img->walk_status().message();
  EXPECT_EQ(img->header().version, 2u);
  expect_snapshots_match(*img, ref["snapshots"]);
  const auto& s = img->snapshots().snapshots.at(0);
  if (s.disk_size) {
    EXPECT_EQ(*s.disk_size, ref["virtual-size"].get<uint64_t>());
  }
  EXPECT_EQ(s.l1_size, img->header().l1_size);
  EXPECT_TRUE(LinesContain(img->extensions().problems, {}));
  EXPECT_FALSE(img->extensions().backing_file);
  EXPECT_TRUE(img->bitmaps().bitmaps.empty());
}

TEST_F(ImageMetadata, ManySnapshots) {
  qemu_img("create -f qcow2 many.qcow2 1M");
  for (int i = 0; i < 20; ++i) qemu_img("snapshot -c snap-" + std::to_string(i) + " many.qcow2");
  qemu_img("snapshot -d snap-3 many.qcow2");
  const json ref = info("many.qcow2");
  ASSERT_FALSE(ref.is_discarded());
  auto img = open("many.qcow2");
  ASSERT_TRUE(img);
  ASSERT_TRUE(img->walkable());
  EXPECT_EQ(img->snapshots().snapshots.size(), 19u);
  expect_snapshots_match(*img, ref["snapshots"]);
  EXPECT_EQ(img->snapshots().snapshots.at(3).name, "snap-4");

  // A plain v3 image carries QEMU's feature name table.
  const Extensions& ext = img->extensions();
  EXPECT_TRUE(LinesContain(ext.problems, {}));
  EXPECT_EQ(ext.feature_names.size(), 8u);
  EXPECT_EQ(feature_name(ext, 0, 0), "dirty bit");
  EXPECT_EQ(feature_name(ext, 0, 4), "extended L2 entries");
  EXPECT_EQ(feature_name(ext, 2, 1), "raw external data");
  EXPECT_EQ(feature_name(ext, 0, 9), "unknown bit 9");
}

TEST_F(ImageMetadata, ExternalDataFile) {
  qemu_img("create -f qcow2 -o data_file=data.raw d.qcow2 16M");
  const json ref = info("d.qcow2");
  ASSERT_FALSE(ref.is_discarded());
  auto img = open("d.qcow2");
  ASSERT_TRUE(img);
  const Extensions& ext = img->extensions();
  EXPECT_TRUE(LinesContain(ext.problems, {}));
  EXPECT_EQ(ext.data_file, ref["format-specific"]["data"]["data-file"].get<std::string>());
  EXPECT_TRUE(img->header().incompatible_features & kIncompatDataFile);
}

TEST_F(ImageMetadata, LuksCryptoHeaderExtension) {
  qemu_img_luks(
      "create -f qcow2 --object secret,id=sec0,data=123456 "
      "-o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 enc.qcow2 16M");
  const json ref = info("enc.qcow2");
  ASSERT_FALSE(ref.is_discarded());
  auto img = open("enc.qcow2");
  ASSERT_TRUE(img);
  EXPECT_EQ(img->header().crypt_method, 2u);
  const Extensions& ext = img->extensions();
  EXPECT_TRUE(LinesContain(ext.problems, {}));
  ASSERT_TRUE(ext.crypto);
  const uint64_t cs = 1ULL << img->header().cluster_bits;
  EXPECT_NE(ext.crypto->offset, 0u);
  EXPECT_EQ(ext.crypto->offset % cs, 0u);
  EXPECT_EQ(ext.crypto->length,
            ref["format-specific"]["data"]["encrypt"]["payload-offset"].get<uint64_t>());
}

}  // namespace
}  // namespace qcow2
