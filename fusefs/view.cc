#include "fusefs/view.h"

#include "engine/io/qemu_locks.h"

namespace qcow2fs {

View::View(std::unique_ptr<qcow2::Image> img, uint32_t gen, const CheckConfig& check_config,
           qcow2::ImageStamp image_stamp, std::string in_use_by, bool controls)
    : generation(gen % kGenerations),
      made_at(std::time(nullptr)),
      stamp(std::move(image_stamp)),
      in_use(std::move(in_use_by)),
      tree(std::move(img), controls),
      check(tree.image(), check_config) {}

qcow2::Result<std::shared_ptr<View>> open_view(const std::string& path, uint32_t generation,
                                               const CheckConfig& check_config, bool controls) {
  auto stamp = qcow2::stamp_image(path);
  auto img = qcow2::Image::open(path);
  if (!img.ok()) return img.status();  // its message says why better than the stamp could
  if (!stamp) return qcow2::Status::IOError("cannot read " + path);
  std::string in_use = writer_of(**img);
  return std::make_shared<View>(std::move(img).value(), generation, check_config, std::move(*stamp),
                                std::move(in_use), controls);
}

std::string writer_of(const qcow2::Image& img) {
  auto locks = qcow2::probe_qemu_locks(img.file());
  if (!locks.ok() || !locks->in_use()) return {};
  return locks->describe();
}

}  // namespace qcow2fs
