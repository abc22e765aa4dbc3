// An opened qcow2 image: everything that can be read from it without walking the tables.
// Opening never fails on damage, only when the file cannot be read or is not qcow2 at all;
// damage is listed in problems() and gates walking (walkable()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/format/bitmap.h"
#include "engine/format/claims.h"
#include "engine/format/extensions.h"
#include "engine/format/geometry.h"
#include "engine/format/header.h"
#include "engine/format/snapshot.h"
#include "engine/io/image_file.h"
#include "engine/util/status.h"

namespace qcow2 {

// A file an image names (backing file, external data file) and where we found it.
struct LinkedFile {
  std::string name;     // as stored in the image
  std::string path;     // the path we resolved it to (empty when not found)
  std::string how;      // which rule found it: "absolute", "beside the image", "working directory"
  bool is_url = false;  // "proto://…": not looked up
  bool exists() const { return !path.empty(); }
};

class Image {
 public:
  static Result<std::unique_ptr<Image>> open(const std::string& path);
  // The image as `overlay`'s writes would leave it (a repair plan's simulation).
  static Result<std::unique_ptr<Image>> open(const std::string& path, std::shared_ptr<const Overlay> overlay);

  const std::string& path() const { return file_.path(); }
  const ImageFile& file() const { return file_; }
  uint64_t file_size() const { return file_.size(); }
  const Header& header() const { return header_; }
  const std::vector<HeaderProblem>& problems() const { return problems_; }
  const Extensions& extensions() const { return extensions_; }

  // False when a fatal header problem makes the tables unsafe to walk.
  bool walkable() const { return walk_status_.ok(); }
  // Ok, or a kCorruption naming the first fatal field and its value.
  const Status& walk_status() const { return walk_status_; }
  // Valid only when walkable().
  const Geometry& geometry() const { return geometry_; }

  // Empty with ok() true when there are none. Parsed only when walkable().
  const SnapshotTable& snapshots() const { return snapshots_; }
  const BitmapDirectory& bitmaps() const { return bitmaps_; }

  // The structures the header points at, each given its clusters in the format's order
  // (header cluster, active L1, refcount table, snapshot table, bitmap directory, encryption
  // header). One that would lie in an earlier one is not decoded: the active L1 or refcount
  // table makes the image unwalkable, the snapshot table and bitmap directory record why in
  // their error, the encryption header in crypto_problem(). Valid only when walkable().
  const ClaimMap& claims() const { return claims_; }
  // Why the encryption header is not referenced (unaligned, outside the file, cross-linked).
  const std::string& crypto_problem() const { return crypto_problem_; }

  const LinkedFile* backing_file() const { return backing_ ? &*backing_ : nullptr; }
  const LinkedFile* data_file() const { return data_file_ ? &*data_file_ : nullptr; }

  // Reads `entries` big-endian u64 values at `offset` (an L1, refcount or bitmap table).
  // Refuses, naming `what`, tables over `max_bytes` or past the end of the file, before
  // allocating anything: the size comes from the image.
  Result<std::vector<uint64_t>> read_u64_table(uint64_t offset, uint64_t entries,
                                               std::string_view what, uint64_t max_bytes) const;
  Result<std::vector<uint64_t>> read_active_l1() const;
  // The snapshot's L1 table; refused with snapshot_l1_problem()'s reason.
  Result<std::vector<uint64_t>> read_snapshot_l1(const Snapshot& s) const;
  Result<std::vector<uint64_t>> read_refcount_table() const;

  // Reads one cluster at a cluster-aligned offset inside the file into `buf` (resized).
  Status read_cluster(uint64_t offset, std::vector<uint8_t>& buf) const;

 private:
  explicit Image(ImageFile file) : file_(std::move(file)) {}
  void claim_tables();
  void load_snapshots();
  void load_bitmaps();
  void claim_crypto_header();
  void resolve_linked_files();
  void fatal(std::string message);

  ImageFile file_;
  Header header_;
  std::vector<HeaderProblem> problems_;
  Status walk_status_;
  Geometry geometry_;
  ClaimMap claims_{9};
  std::string crypto_problem_;
  Extensions extensions_;
  SnapshotTable snapshots_;
  BitmapDirectory bitmaps_;
  std::optional<LinkedFile> backing_;
  std::optional<LinkedFile> data_file_;
};

}  // namespace qcow2
