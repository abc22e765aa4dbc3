// The type of the filesystem an image lives on, from statfs's f_type: shown in the header
// block as the well-known tool does, since a check on NFS, CIFS or a FUSE mount can see a
// file another host is still writing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace qcow2 {

// The name coreutils' `stat -f -c %T` gives the magic (so that the two agree), or
// "unknown (0x…)".
std::string fs_type_name(uint64_t magic);

// statfs f_type of the filesystem holding `fd`; nothing when fstatfs fails.
std::optional<uint64_t> fs_magic(int fd);

// fs_type_name(fs_magic(fd)), "unknown" when fstatfs fails.
std::string host_fs_type(int fd);

}  // namespace qcow2
