#include "engine/format/header.h"

#include <fmt/format.h>

#include "engine/format/extent.h"
#include "engine/format/limits.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

}  // namespace

Result<Header> decode_header(std::span<const uint8_t> b) {
  if (b.size() < kV2HeaderLength) {
    return Status::NotQcow2(
        fmt::format("file is too short for a qcow2 header: {} bytes, need at least {}", b.size(),
                    kV2HeaderLength));
  }
  Header h;
  h.magic = load_be32(&b[0]);
  if (h.magic != kQcow2Magic) {
    return Status::NotQcow2(fmt::format("not a qcow2 image: magic is 0x{:08x}, expected 0x{:08x}",
                                        h.magic, kQcow2Magic));
  }
  h.version = load_be32(&b[4]);
  if (h.version != 2 && h.version != 3) {
    return Status::NotSupported(
        fmt::format("version is {}: only qcow2 versions 2 and 3 exist", h.version));
  }
  h.backing_file_offset = load_be64(&b[8]);
  h.backing_file_size = load_be32(&b[16]);
  h.cluster_bits = load_be32(&b[20]);
  h.size = load_be64(&b[24]);
  h.crypt_method = load_be32(&b[32]);
  h.l1_size = load_be32(&b[36]);
  h.l1_table_offset = load_be64(&b[40]);
  h.refcount_table_offset = load_be64(&b[48]);
  h.refcount_table_clusters = load_be32(&b[56]);
  h.nb_snapshots = load_be32(&b[60]);
  h.snapshots_offset = load_be64(&b[64]);
  if (h.version == 2) return h;

  if (b.size() < kV3MinHeaderLength) {
    return Status::Corruption(fmt::format(
        "file is too short for a version 3 header: {} bytes, need {}", b.size(), kV3MinHeaderLength));
  }
  h.incompatible_features = load_be64(&b[72]);
  h.compatible_features = load_be64(&b[80]);
  h.autoclear_features = load_be64(&b[88]);
  h.refcount_order = load_be32(&b[96]);
  h.header_length = load_be32(&b[100]);
  if (h.header_length > kV3MinHeaderLength && b.size() > kV3MinHeaderLength) {
    h.has_compression_type = true;
    h.compression_type = b[104];
  }
  return h;
}

std::vector<HeaderField> header_fields(const Header& h) {
  const bool v3 = h.version >= 3;
  return {
      {"magic", 0, 4, h.magic, true},
      {"version", 4, 4, h.version, true},
      {"backing_file_offset", 8, 8, h.backing_file_offset, true},
      {"backing_file_size", 16, 4, h.backing_file_size, true},
      {"cluster_bits", 20, 4, h.cluster_bits, true},
      {"size", 24, 8, h.size, true},
      {"crypt_method", 32, 4, h.crypt_method, true},
      {"l1_size", 36, 4, h.l1_size, true},
      {"l1_table_offset", 40, 8, h.l1_table_offset, true},
      {"refcount_table_offset", 48, 8, h.refcount_table_offset, true},
      {"refcount_table_clusters", 56, 4, h.refcount_table_clusters, true},
      {"nb_snapshots", 60, 4, h.nb_snapshots, true},
      {"snapshots_offset", 64, 8, h.snapshots_offset, true},
      {"incompatible_features", 72, 8, h.incompatible_features, v3},
      {"compatible_features", 80, 8, h.compatible_features, v3},
      {"autoclear_features", 88, 8, h.autoclear_features, v3},
      {"refcount_order", 96, 4, h.refcount_order, v3},
      {"header_length", 100, 4, h.header_length, v3},
      {"compression_type", 104, 1, h.compression_type, h.has_compression_type},
  };
}

std::vector<HeaderField> header_layout() {
  Header h;
  h.version = 3;
  h.has_compression_type = true;
  return header_fields(h);
}

std::vector<HeaderProblem> validate_header(const Header& h, uint64_t file_size) {
  std::vector<HeaderProblem> out;
  auto add = [&out](Severity s, const char* field, std::string msg) {
    out.push_back({s, field, std::move(msg)});
  };

  if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits) {
    add(Severity::kFatal, "cluster_bits",
        fmt::format("cluster_bits is {}: must be {} to {} (512 B to 2 MiB clusters)",
                    h.cluster_bits, kMinClusterBits, kMaxClusterBits));
    return out;  // every other check depends on the cluster size
  }
  const uint64_t cs = 1ULL << h.cluster_bits;

  if (h.version == 3) {
    if (h.header_length < kV3MinHeaderLength)
      add(Severity::kFatal, "header_length",
          fmt::format("header_length is {}: a version 3 header is at least {} bytes",
                      h.header_length, kV3MinHeaderLength));
    else if (h.header_length > cs)
      add(Severity::kFatal, "header_length",
          fmt::format("header_length is {}: larger than the {}-byte cluster", h.header_length, cs));
    else if (h.header_length % 8 != 0)
      add(Severity::kWarning, "header_length",
          fmt::format("header_length is {}: not a multiple of 8", h.header_length));
    if (h.refcount_order > 6)
      add(Severity::kFatal, "refcount_order",
          fmt::format("refcount_order is {}: must be 0 to 6 (1- to 64-bit refcounts)",
                      h.refcount_order));
  }

  if (h.crypt_method > 2)
    add(Severity::kError, "crypt_method",
        fmt::format("crypt_method is {}: must be 0 (none), 1 (AES) or 2 (LUKS)", h.crypt_method));

  const uint64_t unknown_incompat = h.incompatible_features & ~kIncompatKnown;
  if (unknown_incompat)
    add(Severity::kError, "incompatible_features",
        fmt::format("incompatible_features has unknown bits 0x{:x}: QEMU refuses to open it",
                    unknown_incompat));
  if (h.incompatible_features & kIncompatCorrupt)
    add(Severity::kWarning, "incompatible_features", "the corrupt bit (1) is set");
  if (h.incompatible_features & kIncompatDirty)
    add(Severity::kWarning, "incompatible_features", "the dirty bit (0) is set");
  if ((h.incompatible_features & kIncompatExtendedL2) && h.cluster_bits < 14)
    add(Severity::kFatal, "cluster_bits",
        fmt::format("cluster_bits is {} with extended L2: subclusters need at least 16 KiB clusters",
                    h.cluster_bits));
  const bool zstd_bit = h.incompatible_features & kIncompatCompression;
  if (h.has_compression_type && h.compression_type > 1)
    add(Severity::kFatal, "compression_type",
        fmt::format("compression_type is {}: must be 0 (zlib) or 1 (zstd)", h.compression_type));
  else if (zstd_bit && h.compression_type == 0)
    add(Severity::kError, "compression_type",
        "compression_type is 0 (zlib) but incompatible bit 3 says a non-zlib type is used");
  else if (!zstd_bit && h.compression_type != 0)
    add(Severity::kError, "compression_type",
        fmt::format("compression_type is {} but incompatible bit 3 is clear", h.compression_type));

  if (h.backing_file_offset != 0) {
    if (h.backing_file_size > kMaxBackingNameBytes)
      add(Severity::kError, "backing_file_size",
          fmt::format("backing_file_size is {}: the limit is {} bytes", h.backing_file_size,
                      kMaxBackingNameBytes));
    else if (!inside_file(h.backing_file_offset, h.backing_file_size, cs))
      add(Severity::kError, "backing_file_offset",
          fmt::format("backing_file_offset 0x{:x} with size {} does not end inside the first "
                      "cluster ({} bytes)",
                      h.backing_file_offset, h.backing_file_size, cs));
  }

  // L1 table: must cover the virtual size, stay in QEMU's limit and lie inside the file.
  const uint64_t l2_entries = cs / ((h.incompatible_features & kIncompatExtendedL2) ? 16 : 8);
  const uint64_t guest_per_l1 = l2_entries * cs;
  const uint64_t l1_needed = h.size / guest_per_l1 + (h.size % guest_per_l1 != 0);
  if (uint64_t{h.l1_size} * 8 > kMaxL1Bytes)
    add(Severity::kFatal, "l1_size",
        fmt::format("l1_size is {}: over QEMU's limit of {} entries (32 MiB)", h.l1_size,
                    kMaxL1Bytes / 8));
  else if (h.l1_size < l1_needed)
    add(Severity::kFatal, "l1_size",
        fmt::format("l1_size is {}: a {}-byte disk needs {} L1 entries", h.l1_size, h.size,
                    l1_needed));
  if (h.l1_size > 0) {
    if (!is_aligned(h.l1_table_offset, cs))
      add(Severity::kFatal, "l1_table_offset",
          fmt::format("l1_table_offset 0x{:x} is not aligned to the cluster size {}",
                      h.l1_table_offset, cs));
    else if (h.l1_table_offset == 0 ||
             !inside_file(h.l1_table_offset, uint64_t{h.l1_size} * 8, file_size))
      add(Severity::kFatal, "l1_table_offset",
          fmt::format("l1_table_offset 0x{:x} with {} entries lies outside the {}-byte file",
                      h.l1_table_offset, h.l1_size, file_size));
  }

  // Refcount table.
  const uint64_t rt_bytes = uint64_t{h.refcount_table_clusters} * cs;
  if (h.refcount_table_clusters == 0)
    add(Severity::kFatal, "refcount_table_clusters", "refcount_table_clusters is 0: no refcount table");
  else if (rt_bytes > kMaxRefTableBytes)
    add(Severity::kFatal, "refcount_table_clusters",
        fmt::format("refcount_table_clusters is {}: over QEMU's limit of 8 MiB ({} clusters)",
                    h.refcount_table_clusters, kMaxRefTableBytes / cs));
  else if (!is_aligned(h.refcount_table_offset, cs))
    add(Severity::kFatal, "refcount_table_offset",
        fmt::format("refcount_table_offset 0x{:x} is not aligned to the cluster size {}",
                    h.refcount_table_offset, cs));
  else if (h.refcount_table_offset == 0 || !inside_file(h.refcount_table_offset, rt_bytes, file_size))
    add(Severity::kFatal, "refcount_table_offset",
        fmt::format("refcount_table_offset 0x{:x} with {} clusters lies outside the {}-byte file",
                    h.refcount_table_offset, h.refcount_table_clusters, file_size));

  // Snapshot table: damage here spoils the snapshots, not the active image.
  if (h.nb_snapshots > kMaxSnapshots)
    add(Severity::kError, "nb_snapshots",
        fmt::format("nb_snapshots is {}: over QEMU's limit of {}", h.nb_snapshots, kMaxSnapshots));
  if (h.nb_snapshots > 0) {
    if (!is_aligned(h.snapshots_offset, cs))
      add(Severity::kError, "snapshots_offset",
          fmt::format("snapshots_offset 0x{:x} is not aligned to the cluster size {}",
                      h.snapshots_offset, cs));
    else if (h.snapshots_offset == 0 || h.snapshots_offset >= file_size)
      add(Severity::kError, "snapshots_offset",
          fmt::format("snapshots_offset 0x{:x} lies outside the {}-byte file", h.snapshots_offset,
                      file_size));
  }
  return out;
}

}  // namespace qcow2
