// An overlaid image reads as the overlay's writes would leave it: the check of a repair plan's
// result runs on it, and the file on disk is never touched.
#include "engine/io/overlay.h"

#include <gtest/gtest.h>

#include "engine/check/checker.h"
#include "engine/io/image.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

std::vector<uint8_t> bytes(std::initializer_list<uint8_t> b) { return b; }

TEST(Overlay, LaterWritesWinAndAdjacentOnesMerge) {
  Overlay o(100);
  o.write(10, bytes({1, 2, 3, 4}));
  o.write(12, bytes({9, 9, 9}));  // overlaps the end and extends it
  o.write(15, bytes({7}));        // adjacent
  std::vector<uint8_t> out(10, 0xee);
  o.apply(8, out);
  EXPECT_EQ(out, (std::vector<uint8_t>{0xee, 0xee, 1, 2, 9, 9, 9, 7, 0xee, 0xee}));
  EXPECT_EQ(o.size(), 100u);
  o.write(200, bytes({5}));
  EXPECT_EQ(o.size(), 201u) << "a write past the end grows the file";
}

TEST(Overlay, AnImageReadsThroughItAndTheFileStaysAsItWas) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string p = dir.file("a.qcow2");
  ASSERT_TRUE(make_image(p, "64M"));
  ASSERT_TRUE(qemu_io(p, {"write -P 0x11 0 64k"}));
  const std::string hash = sha256_file(p);
  const uint64_t size = read_file_bytes(p).size();

  // Set the corrupt bit and append a cluster, through the overlay only.
  auto o = std::make_shared<Overlay>(size);
  const uint64_t incompat = peek(p, 72, 8) | 2;
  std::vector<uint8_t> field(8);
  for (int i = 0; i < 8; ++i) field[i] = static_cast<uint8_t>(incompat >> (56 - 8 * i));
  o->write(72, field);
  o->write(size, std::vector<uint8_t>(65536, 0));
  auto img = Image::open(p, o);
  ASSERT_TRUE(img.ok()) << img.status().message();
  EXPECT_TRUE((*img)->header().incompatible_features & 2);
  EXPECT_EQ((*img)->file_size(), size + 65536);
  auto r = check_image(**img);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, ImageStatus::kCorruptFlag);
  EXPECT_EQ(sha256_file(p), hash) << "an overlay writes nothing";
}

}  // namespace
}  // namespace qcow2::test
