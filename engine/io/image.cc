#include "engine/io/image.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "engine/format/extent.h"
#include "engine/format/limits.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

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

Result<std::unique_ptr<Image>> Image::open(const std::string& path) { return open(path, nullptr); }

Result<std::unique_ptr<Image>> Image::open(const std::string& path, std::shared_ptr<const Overlay> overlay) {
  QCOW2_ASSIGN_OR_RETURN(ImageFile file, ImageFile::open_read_only(path, std::move(overlay)));
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
  img->claims_ = ClaimMap(img->geometry_.cluster_bits);
  img->claim_tables();
  if (!img->walkable()) return img;
  img->load_snapshots();
  img->load_bitmaps();
  img->claim_crypto_header();
  img->resolve_linked_files();
  return img;
}

void Image::fatal(std::string message) {
  if (walk_status_.ok()) walk_status_ = Status::Corruption(message);
}

// The header cluster, then the active L1 and refcount tables (validate_header has checked
// they lie inside the file): a table that lies in an earlier one cannot be told apart from
// it, so nothing below it can be walked.
void Image::claim_tables() {
  const Header& h = header_;
  claims_.claim({0, 1, Role::kHeader});
  const Claim l1{h.l1_table_offset, uint64_t{h.l1_size} * 8, Role::kL1};
  const Claim rt{h.refcount_table_offset, uint64_t{h.refcount_table_clusters} << geometry_.cluster_bits,
                 Role::kRefTable};
  for (const auto& [c, field] : {std::pair{l1, "l1_table_offset"}, std::pair{rt, "refcount_table_offset"}}) {
    if (const Claim* owner = claims_.claim(c)) {
      std::string msg = fmt::format("the {} at 0x{:x} ({} bytes) lies in {}: it is not decoded", role_name(c.role),
                                    c.offset, c.bytes, describe_claim(*owner));
      problems_.push_back({Severity::kFatal, field, msg});
      fatal(std::move(msg));
    }
  }
}

void Image::load_snapshots() {
  const Header& h = header_;
  if (h.nb_snapshots == 0) return;
  auto broken = [this](std::string why) {
    snapshots_.bad_index = 0;
    snapshots_.error = std::move(why);
  };
  for (const auto& p : problems_)
    if (p.field == "nb_snapshots" || p.field == "snapshots_offset") return broken(p.message);
  if (const Claim* owner = claims_.overlapping(h.snapshots_offset, 1))
    return broken(fmt::format("the snapshot table at 0x{:x} lies in {}: it is not decoded", h.snapshots_offset,
                              describe_claim(*owner)));
  // The table's size is only known by parsing it. It may run up to the next structure, the
  // end of the file or QEMU's limit, whichever comes first; read it in growing pieces so a
  // short table in a large file costs what the table costs.
  uint64_t limit = std::min(file_.size() - h.snapshots_offset, kSnapshotTableMaxBytes);
  const Claim* next = nullptr;
  for (uint64_t c = (h.snapshots_offset >> geometry_.cluster_bits) + 1;
       (c << geometry_.cluster_bits) < h.snapshots_offset + limit; ++c) {
    if ((next = claims_.owner_of_cluster(c))) {
      limit = (c << geometry_.cluster_bits) - h.snapshots_offset;
      break;
    }
  }
  std::vector<uint8_t> bytes;
  for (uint64_t want = std::min<uint64_t>(limit, 64 << 10);; want = std::min(limit, want * 4)) {
    const size_t have = bytes.size();
    bytes.resize(want);
    if (Status st = file_.read(h.snapshots_offset + have, std::span<uint8_t>(bytes).subspan(have)); !st.ok())
      return broken(st.message());
    snapshots_ = parse_snapshot_table(bytes, h.snapshots_offset, h.nb_snapshots, h.version);
    if (!snapshots_.out_of_bytes || want == limit) break;
  }
  if (snapshots_.out_of_bytes && next)
    snapshots_.error += fmt::format(" (where {} begins: the table would run into it)", describe_claim(*next));
  claims_.claim({h.snapshots_offset, snapshots_.table_bytes, Role::kSnapshotTable});
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
  if (!inside_file(ext->directory_offset, ext->directory_size, file_.size())) {
    bitmaps_.error = fmt::format("the bitmap directory at 0x{:x} ({} bytes) lies past the end of the {}-byte file",
                                 ext->directory_offset, ext->directory_size, file_.size());
    return;
  }
  if (const Claim* owner = claims_.claim({ext->directory_offset, ext->directory_size, Role::kBitmapDirectory})) {
    bitmaps_.error = fmt::format("the bitmap directory at 0x{:x} ({} bytes) lies in {}: it is not decoded",
                                 ext->directory_offset, ext->directory_size, describe_claim(*owner));
    bitmaps_.cross_linked = true;
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

void Image::claim_crypto_header() {
  const auto& c = extensions_.crypto;
  if (!c) return;
  if (!is_aligned(c->offset, geometry_.cluster_size) || c->offset == 0 || !inside_file(c->offset, c->length, file_.size()))
    crypto_problem_ = fmt::format("the encryption header at 0x{:x} ({} bytes) is unaligned or outside the file",
                                  c->offset, c->length);
  else if (const Claim* owner = claims_.claim({c->offset, c->length, Role::kCryptoHeader}))
    crypto_problem_ = fmt::format("the encryption header at 0x{:x} ({} bytes) lies in {}", c->offset, c->length,
                                  describe_claim(*owner));
}

void Image::resolve_linked_files() {
  if (extensions_.backing_file)
    backing_ = resolve_backing(*extensions_.backing_file, path());
  if (extensions_.data_file)
    data_file_ = resolve_data_file(*extensions_.data_file, path());
}

Result<std::vector<uint64_t>> Image::read_u64_table(uint64_t offset, uint64_t entries, std::string_view what,
                                                    uint64_t max_bytes) const {
  if (entries > max_bytes / 8)
    return Status::Limit(fmt::format("{} has {} entries: over the limit of {}", what, entries, max_bytes / 8));
  if (!inside_file(offset, entries * 8, file_.size()))
    return Status::Corruption(fmt::format("{}: {} entries at 0x{:x} lie past the end of the {}-byte file", what,
                                          entries, offset, file_.size()));
  std::vector<uint64_t> out(entries);
  Status st = file_.read(offset, {reinterpret_cast<uint8_t*>(out.data()), out.size() * 8});
  if (!st.ok()) return Status(st.code(), fmt::format("{}: {}", what, st.message()));
  for (uint64_t& v : out) v = load_be64(reinterpret_cast<const uint8_t*>(&v));
  return out;
}

Result<std::vector<uint64_t>> Image::read_active_l1() const {
  return read_u64_table(header_.l1_table_offset, header_.l1_size, "active L1 table", kMaxL1Bytes);
}

Result<std::vector<uint64_t>> Image::read_snapshot_l1(const Snapshot& s) const {
  const std::string what = fmt::format("snapshot {} L1 table", escape_text(s.id));
  if (std::string why = snapshot_l1_problem(s, geometry_, file_.size()); !why.empty())
    return Status::Corruption(fmt::format("{}: {}", what, why));
  return read_u64_table(s.l1_table_offset, s.l1_size, what, kMaxL1Bytes);
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
