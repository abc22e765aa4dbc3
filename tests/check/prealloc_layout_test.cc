// qcow2-dump -p's engine: the data clusters of the active tables against the layout that
// preallocation makes (entry i right after its L2 table, at l2_offset + (i + 1) * cluster_size).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>

#include "engine/check/layout.h"
#include "engine/check/prealloc_layout.h"
#include "engine/render/check_text.h"
#include "engine/render/text_sink.h"
#include "tests/support/fixtures.h"

namespace qcow2::test {
namespace {

struct Opened {
  std::unique_ptr<Image> img;
  std::optional<Layout> layout;
};

Opened open_with_layout(const std::string& path) {
  Opened o;
  auto img = Image::open(path);
  if (!img.ok()) {
    ADD_FAILURE() << img.status().message();
    return o;
  }
  o.img = std::move(img).value();
  auto layout = Layout::build(*o.img);
  if (!layout.ok()) {
    ADD_FAILURE() << layout.status().message();
    return o;
  }
  o.layout.emplace(std::move(layout).value());
  return o;
}

// Only metadata: qemu-img 7.2's preallocation=full writes the data contiguously and the L2
// tables after it, so there every cluster is "not in place", as the well-known tool says too.
TEST(preallocLayout, QemuImgsPreallocatedImageIsInPlace) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  for (const char* mode : {"metadata"}) {
    const std::string image = dir.file(std::string(mode) + ".qcow2");
    ASSERT_TRUE(make_image(image, "40M", {std::string("preallocation=") + mode, "cluster_size=4096"}));
    Opened o = open_with_layout(image);
    ASSERT_TRUE(o.layout);
    auto r = check_prealloc_layout(*o.img, *o.layout, 10);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->checked);
    EXPECT_EQ(r->data_clusters, 40u * 256) << mode;  // 4 KiB clusters, 512 entries per table
    EXPECT_EQ(r->deviations, 0u) << mode;
  }
}

// Written in reverse order, a sparse image puts each cluster after the one the guest wrote
// next: all but none are out of place. The list stops at the cap; the count does not.
TEST(preallocLayout, TheListIsCappedAndTheRestCounted) {
  QCOW2_SKIP_WITHOUT_QEMU();
  TempDir dir;
  const std::string image = dir.file("reverse.qcow2");
  ASSERT_TRUE(make_image(image, "1M", {"cluster_size=4096"}));
  std::vector<std::string> writes;
  for (int k = 7; k >= 0; --k) writes.push_back("write -P 0x5a " + std::to_string(k * 4096) + " 4k");
  ASSERT_TRUE(qemu_io(image, writes));
  Opened o = open_with_layout(image);
  ASSERT_TRUE(o.layout);
  auto r = check_prealloc_layout(*o.img, *o.layout, 3);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->data_clusters, 8u);
  EXPECT_GE(r->deviations, 7u);  // entry 7 may still sit right after the table
  ASSERT_EQ(r->listed.size(), 3u);
  EXPECT_LT(r->listed[0].l2_index, r->listed[1].l2_index) << "in table order";

  auto check = check_image(*o.img);
  ASSERT_TRUE(check.ok());
  CheckTextOptions to;
  to.prealloc = &r.value();
  StringSink out;
  render_check(*o.img, *check, to, Style(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find(fmt::format("... and {} more not listed\n", r->deviations - 3)), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("Prealloc: not in place: {}, data clusters: 8\n", r->deviations)),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace qcow2::test
