#include "fusefs/view.h"

namespace qcow2fs {

View::View(std::unique_ptr<qcow2::Image> img, uint32_t gen, const CheckConfig& check_config)
    : generation(gen % kGenerations),
      made_at(std::time(nullptr)),
      tree(std::move(img)),
      check(tree.image(), check_config) {}

qcow2::Result<std::shared_ptr<View>> open_view(const std::string& path, uint32_t generation,
                                               const CheckConfig& check_config) {
  auto img = qcow2::Image::open(path);
  if (!img.ok()) return img.status();
  return std::make_shared<View>(std::move(img).value(), generation, check_config);
}

}  // namespace qcow2fs
