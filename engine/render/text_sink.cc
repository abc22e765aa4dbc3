#include "engine/render/text_sink.h"

namespace qcow2 {

void FileSink::write(std::string_view text) {
  if (!ok_ || text.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) ok_ = false;
}

}  // namespace qcow2
