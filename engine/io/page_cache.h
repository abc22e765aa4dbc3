// Dropping the page cache of an image before it is read (qcow2-dump -N): on shared storage
// (NFS, a cluster filesystem) another host may have changed the file, and pages this host
// cached earlier would show the old metadata.
#pragma once

#include <string>

#include "engine/util/status.h"

namespace qcow2 {

// posix_fadvise(POSIX_FADV_DONTNEED) over the whole file at `path`. The cache is the file's,
// not the descriptor's, so a later open reads from the disk. Pages still dirty are not dropped
// (the kernel writes them first); a file that cannot be opened is reported as by Image::open.
Status drop_page_cache(const std::string& path);

}  // namespace qcow2
