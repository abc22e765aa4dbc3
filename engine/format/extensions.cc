#include "engine/format/extensions.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/format/limits.h"
#include "engine/util/bytes.h"
#include "engine/util/escape.h"

namespace qcow2 {
namespace {

constexpr uint32_t kExtHeaderBytes = 8;  // type + length
constexpr uint32_t kFeatureEntryBytes = 48;
constexpr uint32_t kFeatureNameBytes = 46;
constexpr uint32_t kBitmapsExtBytes = 24;
constexpr uint32_t kCryptoExtBytes = 16;
constexpr uint32_t kQemuBackingFormatMax = 15;  // QEMU keeps it in a 16-byte buffer
constexpr uint32_t kCryptLuks = 2;

// Where the bytes we were given stop: the first cluster, or the file when it is shorter.
std::string span_end_name(uint64_t span_size, const Header& h) {
  const bool short_file = h.cluster_bits < 64 && span_size < (1ULL << h.cluster_bits);
  return fmt::format("the end of the {} at 0x{:x}", short_file ? "file" : "first cluster",
                     span_size);
}

std::string bytes_as_string(const std::vector<uint8_t>& d) { return {d.begin(), d.end()}; }

std::string ext_label(const HeaderExtension& x) {
  return fmt::format("{} extension at 0x{:x}", extension_name(x.type), x.offset);
}

void decode_feature_names(const HeaderExtension& x, Extensions& ext) {
  if (x.length % kFeatureEntryBytes != 0)
    ext.problems.push_back(fmt::format("{}: length {} is not a multiple of {} ({} bytes left over)",
                                       ext_label(x), x.length, kFeatureEntryBytes,
                                       x.length % kFeatureEntryBytes));
  // A repeated table replaces the earlier one, as each QEMU read would.
  ext.feature_names.clear();
  for (size_t at = 0; at + kFeatureEntryBytes <= x.data.size(); at += kFeatureEntryBytes) {
    const uint8_t* e = &x.data[at];
    FeatureName f{e[0], e[1], {}};
    // Zero padded; a 46-byte name has no NUL at all.
    const auto* name = reinterpret_cast<const char*>(e + 2);
    f.name.assign(name, std::find(name, name + kFeatureNameBytes, '\0'));
    const uint64_t where = x.offset + kExtHeaderBytes + at;
    if (f.type > 2)
      ext.problems.push_back(
          fmt::format("feature name entry at 0x{:x} ('{}'): type {} is not 0, 1 or 2", where,
                      escape_text(f.name), f.type));
    if (f.bit > 63)
      ext.problems.push_back(fmt::format("feature name entry at 0x{:x} ('{}'): bit {} is over 63",
                                         where, escape_text(f.name), f.bit));
    ext.feature_names.push_back(std::move(f));
  }
}

void decode_bitmaps(const HeaderExtension& x, Extensions& ext) {
  if (x.length != kBitmapsExtBytes) {
    ext.problems.push_back(
        fmt::format("{}: length is {}, expected {}", ext_label(x), x.length, kBitmapsExtBytes));
    return;
  }
  const uint8_t* p = x.data.data();
  BitmapsExtension b{load_be32(p), load_be32(p + 4), load_be64(p + 8), load_be64(p + 16)};
  if (b.nb_bitmaps == 0)
    ext.problems.push_back(fmt::format("{}: nb_bitmaps is 0", ext_label(x)));
  else if (b.nb_bitmaps > kMaxBitmaps)
    ext.problems.push_back(fmt::format("{}: nb_bitmaps is {}: over QEMU's limit of {}",
                                       ext_label(x), b.nb_bitmaps, kMaxBitmaps));
  if (b.reserved != 0)
    ext.problems.push_back(
        fmt::format("{}: reserved field is 0x{:x}, must be 0", ext_label(x), b.reserved));
  ext.bitmaps = b;
}

void decode_crypto(const HeaderExtension& x, const Header& h, Extensions& ext) {
  if (h.crypt_method != kCryptLuks)
    ext.problems.push_back(
        fmt::format("{}: crypt_method is {}: only LUKS (2) has one", ext_label(x), h.crypt_method));
  if (x.length != kCryptoExtBytes) {
    ext.problems.push_back(
        fmt::format("{}: length is {}, expected {}", ext_label(x), x.length, kCryptoExtBytes));
    return;
  }
  ext.crypto = CryptoExtension{load_be64(x.data.data()), load_be64(x.data.data() + 8)};
}

void decode_known(const HeaderExtension& x, const Header& h, Extensions& ext) {
  switch (x.type) {
    case kExtBackingFormat:
      ext.backing_format = bytes_as_string(x.data);
      if (x.length > kQemuBackingFormatMax)
        ext.problems.push_back(fmt::format("{}: length is {}: QEMU refuses formats over {} bytes",
                                           ext_label(x), x.length, kQemuBackingFormatMax));
      break;
    case kExtFeatureNames: decode_feature_names(x, ext); break;
    case kExtBitmaps: decode_bitmaps(x, ext); break;
    case kExtCrypto: decode_crypto(x, h, ext); break;
    case kExtDataFile: ext.data_file = bytes_as_string(x.data); break;
    default: break;  // unknown: kept raw in `all`
  }
}

// Walks type/length records from `start` up to `end`, stopping at the end marker or damage.
void read_extension_area(std::span<const uint8_t> c0, const Header& h, uint64_t start, uint64_t end,
                         Extensions& ext) {
  const std::string end_name = end < c0.size() ? fmt::format("the backing file name at 0x{:x}", end)
                                               : span_end_name(c0.size(), h);
  std::map<uint32_t, uint64_t> first_seen;
  uint64_t pos = start;
  while (pos < end) {
    if (end - pos < kExtHeaderBytes) {
      ext.problems.push_back(fmt::format(
          "header extension at 0x{:x}: only {} bytes before {}: too few for a type and length", pos,
          end - pos, end_name));
      return;
    }
    HeaderExtension x{load_be32(&c0[pos]), load_be32(&c0[pos + 4]), pos, {}};
    const uint64_t data_at = pos + kExtHeaderBytes;
    // Keep what the span holds even of a damaged record, so a dump can show it.
    const uint64_t held = std::min<uint64_t>(x.length, c0.size() - data_at);
    x.data.assign(c0.begin() + data_at, c0.begin() + data_at + held);
    ext.all.push_back(x);
    if (x.length > end - data_at) {
      ext.problems.push_back(
          fmt::format("header extension 0x{:08x} at 0x{:x}: length {} runs past {}", x.type, pos,
                      x.length, end_name));
      return;
    }
    if (x.type == kExtEnd) return;
    if (auto [it, fresh] = first_seen.emplace(x.type, pos); !fresh)
      ext.problems.push_back(fmt::format(
          "header extension 0x{:08x} ({}) at 0x{:x} repeats the one at 0x{:x}: each type may "
          "appear once",
          x.type, extension_name(x.type), pos, it->second));
    decode_known(x, h, ext);
    pos = data_at + align_up(x.length, 8);
  }
}

// Decides where the extension area lies (as QEMU does: from header_length up to the backing
// file name, else to the end of cluster 0) and reads it.
void read_extensions(std::span<const uint8_t> c0, const Header& h, Extensions& ext) {
  const uint64_t start = h.version >= 3 ? h.header_length : kV2HeaderLength;
  if (h.version >= 3 && start < kV3MinHeaderLength) {
    ext.problems.push_back(fmt::format(
        "header extensions not read: header_length is {}, under the {} bytes of a version 3 header",
        start, kV3MinHeaderLength));
    return;
  }
  uint64_t end = c0.size();
  if (h.backing_file_offset != 0 && h.backing_file_offset < end) end = h.backing_file_offset;
  if (start > end) {
    ext.problems.push_back(
        end < c0.size()
            ? fmt::format("header extensions not read: backing_file_offset 0x{:x} lies inside the "
                          "{}-byte header",
                          end, start)
            : fmt::format("header extensions not read: header_length {} passes {}", start,
                          span_end_name(c0.size(), h)));
    return;
  }
  read_extension_area(c0, h, start, end, ext);
}

// Feature bits that promise or forbid an extension.
void check_feature_links(const Header& h, Extensions& ext) {
  const bool bitmaps_bit = h.autoclear_features & kAutoclearBitmaps;
  if (bitmaps_bit && !ext.bitmaps)
    ext.problems.push_back("autoclear bit 0 (bitmaps) is set but there is no bitmaps extension");
  if (!bitmaps_bit && ext.bitmaps)
    ext.problems.push_back(
        "bitmaps extension present but autoclear bit 0 (bitmaps) is clear: the bitmaps are stale "
        "and QEMU ignores them");
  if (h.crypt_method == kCryptLuks && !ext.crypto)
    ext.problems.push_back(
        "crypt_method is 2 (LUKS) but there is no full disk encryption header extension");
  const bool data_file_bit = h.incompatible_features & kIncompatDataFile;
  if (data_file_bit && !ext.data_file)
    ext.problems.push_back(
        "incompatible bit 2 (external data file) is set but the image names no data file: it "
        "must be given when opening");
  if (!data_file_bit && ext.data_file)
    ext.problems.push_back(
        "external data file extension present but incompatible bit 2 (external data file) is "
        "clear: the name is ignored");
}

void read_backing_name(std::span<const uint8_t> c0, const Header& h, Extensions& ext) {
  const uint64_t off = h.backing_file_offset;
  const uint32_t size = h.backing_file_size;
  if (off == 0) {
    if (size != 0)
      ext.problems.push_back(fmt::format(
          "backing_file_size is {} but backing_file_offset is 0: there is no backing file", size));
    return;
  }
  if (size == 0) {
    ext.problems.push_back(fmt::format(
        "backing_file_offset is 0x{:x} but backing_file_size is 0: the backing file name is empty",
        off));
    return;
  }
  if (size > kMaxBackingNameBytes) {
    ext.problems.push_back(
        fmt::format("backing file name at 0x{:x} is {} bytes: over QEMU's limit of {}", off, size,
                    kMaxBackingNameBytes));
    return;
  }
  if (off > c0.size() || size > c0.size() - off) {
    ext.problems.push_back(fmt::format("backing file name at 0x{:x} ({} bytes) runs past {}", off,
                                       size, span_end_name(c0.size(), h)));
    return;
  }
  std::string name(reinterpret_cast<const char*>(&c0[off]), size);
  if (const size_t nul = name.find('\0'); nul != std::string::npos)
    ext.problems.push_back(
        fmt::format("backing file name at 0x{:x} has a NUL byte at position {}: QEMU reads only "
                    "the part before it",
                    off, nul));
  ext.backing_file = std::move(name);
}

}  // namespace

Extensions parse_extensions(std::span<const uint8_t> cluster0, const Header& h) {
  Extensions ext;
  read_extensions(cluster0, h, ext);
  check_feature_links(h, ext);
  read_backing_name(cluster0, h, ext);
  return ext;
}

std::string feature_name(const Extensions& ext, uint8_t type, uint8_t bit) {
  for (const auto& f : ext.feature_names)
    if (f.type == type && f.bit == bit && !f.name.empty()) return f.name;
  static const std::map<std::pair<uint8_t, uint8_t>, const char*> kSpecNames = {
      {{0, 0}, "dirty"},
      {{0, 1}, "corrupt"},
      {{0, 2}, "external data file"},
      {{0, 3}, "compression type"},
      {{0, 4}, "extended L2"},
      {{1, 0}, "lazy refcounts"},
      {{2, 0}, "bitmaps"},
      {{2, 1}, "raw external data"},
  };
  if (auto it = kSpecNames.find({type, bit}); it != kSpecNames.end()) return it->second;
  return fmt::format("unknown bit {}", bit);
}

const char* extension_name(uint32_t type) {
  switch (type) {
    case kExtEnd: return "end";
    case kExtBackingFormat: return "backing format";
    case kExtFeatureNames: return "feature name table";
    case kExtBitmaps: return "bitmaps";
    case kExtCrypto: return "full disk encryption header";
    case kExtDataFile: return "external data file";
    default: return "unknown";
  }
}

}  // namespace qcow2
