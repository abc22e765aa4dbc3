#include "engine/repair/plan.h"

#include <algorithm>

#include "engine/util/bytes.h"

namespace qcow2 {

Risk Plan::risk() const {
  Risk r = Risk::kNone;
  for (const Edit& e : edits) r = std::max(r, e.risk);
  return r;
}

std::vector<uint8_t> be_bytes(uint64_t value, unsigned width) {
  std::vector<uint8_t> b(width);
  for (unsigned i = 0; i < width; ++i) b[i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
  return b;
}

}  // namespace qcow2
