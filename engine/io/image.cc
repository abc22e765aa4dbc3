#include "engine/io/image.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

constexpr uint64_t kMaxL1Bytes = 32ULL << 20;
constexpr uint64_t kMaxRefTableBytes = 8ULL << 20;
constexpr uint64_t kMaxBitmapDirectoryBytes = 1024ULL * 65535;

bool file_exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// QEMU resolves a relative backing file name against the image's directory.
LinkedFile resolve_backing(const std::string& name, const std::string& image_path) {
  LinkedFile f{name, "", "", name.find("://") != std::string::npos};
  if (f.is_url) return f;
  namespace fs = std::filesystem;
  if (fs::path(name).is_absolute()) {
    if (file_exists(name)) f = {name, name, "absolute"};
    return f;
  }
  const std::string beside = (fs::path(image_path).parent_path() / name).string();
  if (file_exists(beside)) {
    f.path = beside;
    f.how = "beside the image";
  }
  return f;
}

// QEMU 7.2 resolves a relative data file name against the working directory; most people mean
// the image's directory, so look there first and say which rule found it.
LinkedFile resolve_data_file(const std::string& name, const std::string& image_path) {
  LinkedFile f = resolve_backing(name, image_path);
  if (f.exists() || f.is_url || std::filesystem::path(name).is_absolute()) return f;
  if (file_exists(name)) {
    f.path = name;
    f.how = "working directory";
  }
  return f;
}

// Cluster 0 holds the header, its extensions and the backing file name: reads what exists of
// it, bounded by the file. Only as much as the header says (its cluster size, or a longer
// header_length, which is an error reported later) is read: the format's largest cluster is
// 2 MiB, and reading that much for a 64 KiB cluster costs milliseconds of page faults at mount.
Status read_cluster0(const ImageFile& file, uint64_t size, std::vector<uint8_t>& out) {
  constexpr uint64_t kMax = 2ULL << 20;
  constexpr uint64_t kProbe = 64ULL << 10;  // every header field, and most whole clusters
  out.resize(std::min(size, kProbe));
  QCOW2_RETURN_IF_ERROR(file.read(0, out));
  uint64_t need = kMax;
  if (out.size() >= 104) {
    const uint32_t bits = load_be32(&out[20]);
    const uint32_t length = load_be32(&out[4]) >= 3 ? load_be32(&out[100]) : 0;
    if (bits >= 9 && bits <= 21) need = std::max<uint64_t>(1ULL << bits, length);
  }
  need = std::min({need, size, kMax});
  if (need <= out.size()) return Status::Ok();
  const size_t have = out.size();
  out.resize(need);
  return file.read(have, std::span<uint8_t>(out).subspan(have));
}

}  // namespace

Result<std::unique_ptr<Image>> Image::open(const std::string& path) {
  QCOW2_ASSIGN_OR_RETURN(ImageFile file, ImageFile::open_read_only(path));
  std::unique_ptr<Image> img(new Image(std::move(file)));
  const uint64_t size = img->file_.size();
  if (size == 0) return Status::NotQcow2(fmt::format("{}: file is empty, not a qcow2 image", path));

  std::vector<uint8_t> first;
  QCOW2_RETURN_IF_ERROR(read_cluster0(img->file_, size, first));
  auto header = decode_header(first);
  if (!header.ok())
    return Status(header.status().code(), fmt::format("{}: {}", path, header.status().message()));
  img->header_ = *header;
  img->problems_ = validate_header(img->header_, size);
  for (const auto& p : img->problems_) {
    if (p.severity == Severity::kFatal) {
      img->walk_status_ = Status::Corruption(p.message);
      break;
    }
  }
  const uint64_t cs = img->header_.cluster_bits <= 21 ? 1ULL << img->header_.cluster_bits : 0;
  if (cs) first.resize(std::min<uint64_t>(first.size(), cs));
  img->extensions_ = parse_extensions(first, img->header_);
  if (!img->walkable()) return img;

  img->geometry_ = make_geometry(img->header_);
  img->load_snapshots();
  img->load_bitmaps();
  img->resolve_linked_files();
  return img;
}

void Image::load_snapshots() {
  const Header& h = header_;
  if (h.nb_snapshots == 0) return;
  for (const auto& p : problems_) {
    if (p.field == "nb_snapshots" || p.field == "snapshots_offset") {
      snapshots_.bad_index = 0;
      snapshots_.error = p.message;
      return;
    }
  }
  // The table's size is only known by parsing it; read what the file and QEMU's limit allow.
  const uint64_t avail = std::min(file_.size() - h.snapshots_offset, kSnapshotTableMaxBytes);
  std::vector<uint8_t> bytes(avail);
  Status st = file_.read(h.snapshots_offset, bytes);
  if (!st.ok()) {
    snapshots_.bad_index = 0;
    snapshots_.error = st.message();
    return;
  }
  snapshots_ = parse_snapshot_table(bytes, h.snapshots_offset, h.nb_snapshots, h.version);
}

void Image::load_bitmaps() {
  const auto& ext = extensions_.bitmaps;
  if (!ext) return;
  if (ext->directory_size == 0 || ext->directory_size > kMaxBitmapDirectoryBytes) {
    bitmaps_.error = fmt::format("bitmap directory size {} is out of range (1 to {})",
                                 ext->directory_size, kMaxBitmapDirectoryBytes);
    return;
  }
  if (!is_aligned(ext->directory_offset, geometry_.cluster_size)) {
    bitmaps_.error = fmt::format("bitmap directory offset 0x{:x} is not cluster aligned",
                                 ext->directory_offset);
    return;
  }
  std::vector<uint8_t> bytes(ext->directory_size);
  Status st = file_.read(ext->directory_offset, bytes);
  if (!st.ok()) {
    bitmaps_.error = "bitmap directory: " + st.message();
    return;
  }
  bitmaps_ = parse_bitmap_directory(bytes, ext->directory_offset, ext->nb_bitmaps);
}

void Image::resolve_linked_files() {
  if (extensions_.backing_file)
    backing_ = resolve_backing(*extensions_.backing_file, path());
  if (extensions_.data_file)
    data_file_ = resolve_data_file(*extensions_.data_file, path());
}

Result<std::vector<uint64_t>> Image::read_u64_table(uint64_t offset, uint64_t entries,
                                                    const char* what, uint64_t max_bytes) const {
  if (entries > max_bytes / 8)
    return Status::Limit(fmt::format("{} has {} entries: over the limit of {}", what, entries,
                                     max_bytes / 8));
  std::vector<uint8_t> raw(entries * 8);
  Status st = file_.read(offset, raw);
  if (!st.ok()) return Status(st.code(), fmt::format("{}: {}", what, st.message()));
  std::vector<uint64_t> out(entries);
  for (uint64_t i = 0; i < entries; ++i) out[i] = load_be64(&raw[i * 8]);
  return out;
}

Result<std::vector<uint64_t>> Image::read_active_l1() const {
  return read_u64_table(header_.l1_table_offset, header_.l1_size, "active L1 table", kMaxL1Bytes);
}

Result<std::vector<uint64_t>> Image::read_snapshot_l1(const Snapshot& s) const {
  if (!is_aligned(s.l1_table_offset, geometry_.cluster_size) || s.l1_table_offset == 0)
    return Status::Corruption(fmt::format("snapshot {} L1 table offset 0x{:x} is not cluster aligned",
                                          s.id, s.l1_table_offset));
  return read_u64_table(s.l1_table_offset, s.l1_size,
                        fmt::format("snapshot {} L1 table", s.id).c_str(), kMaxL1Bytes);
}

Result<std::vector<uint64_t>> Image::read_refcount_table() const {
  return read_u64_table(header_.refcount_table_offset,
                        uint64_t{header_.refcount_table_clusters} * geometry_.cluster_size / 8,
                        "refcount table", kMaxRefTableBytes);
}

Status Image::read_cluster(uint64_t offset, std::vector<uint8_t>& buf) const {
  buf.resize(geometry_.cluster_size);
  if (!is_aligned(offset, geometry_.cluster_size))
    return Status::Corruption(fmt::format("cluster offset 0x{:x} is not aligned", offset));
  return file_.read(offset, buf);
}

}  // namespace qcow2
