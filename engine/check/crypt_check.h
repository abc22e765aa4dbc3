// Whether crypt_method can be true. QEMU reads an image whose crypt_method is 1 (AES) or 2
// (LUKS) through a cipher; a damaged field makes every guest read garbage. Method 2 needs the
// encryption header extension (and the extension needs method 2). Encrypted data looks random:
// a data cluster holding one byte repeated (written, not a hole of a preallocated image)
// cannot be ciphertext, so such a cluster proves the field wrong.
#pragma once

#include <vector>

#include "engine/check/finding.h"
#include "engine/check/layout.h"
#include "engine/io/image.h"

namespace qcow2 {

// Reads at most a few L2 tables and data clusters of the active image.
std::vector<Finding> crypt_method_findings(const Image& img, const Layout& layout);

}  // namespace qcow2
