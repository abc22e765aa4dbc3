#include "tests/fuzz/base_image.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/util/bytes.h"

namespace qcow2fuzz {
namespace {

constexpr uint64_t kCluster = 64 << 10;

std::vector<uint8_t> healthy_bytes() {
  std::vector<uint8_t> b(4 * kCluster, 0);
  uint8_t* h = b.data();
  qcow2::store_be32(h + 0, qcow2::kQcow2Magic);
  qcow2::store_be32(h + 4, 3);                 // version
  qcow2::store_be32(h + 20, 16);               // cluster_bits
  qcow2::store_be64(h + 24, 1 << 20);          // size
  qcow2::store_be32(h + 36, 1);                // l1_size
  qcow2::store_be64(h + 40, 3 * kCluster);     // l1_table_offset
  qcow2::store_be64(h + 48, kCluster);         // refcount_table_offset
  qcow2::store_be32(h + 56, 1);                // refcount_table_clusters
  qcow2::store_be32(h + 96, 4);                // refcount_order
  qcow2::store_be32(h + 100, 104);             // header_length; the end extension follows
  qcow2::store_be64(&b[kCluster], 2 * kCluster);  // refcount table entry 0 -> the block
  for (int c = 0; c < 4; ++c) qcow2::store_be16(&b[2 * kCluster + 2 * c], 1);
  return b;
}

std::unique_ptr<qcow2::Image> open_healthy() {
  const int fd = ::memfd_create("qcow2fuzz-base", MFD_CLOEXEC);
  const auto bytes = healthy_bytes();
  if (fd < 0 || ::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    std::perror("base image");
    std::abort();
  }
  auto img = qcow2::Image::open("/proc/self/fd/" + std::to_string(fd));
  if (!img.ok() || !(*img)->walkable()) {
    std::fprintf(stderr, "base image does not open: %s\n",
                 img.ok() ? (*img)->walk_status().message().c_str() : img.status().message().c_str());
    std::abort();
  }
  return std::move(img).value();
}

}  // namespace

const qcow2::Image& base_image() {
  static const std::unique_ptr<qcow2::Image> img = open_healthy();
  return *img;
}

}  // namespace qcow2fuzz
