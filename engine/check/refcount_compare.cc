#include "engine/check/refcount_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "engine/check/reference_walk.h"
#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/io/prefetch_reader.h"

namespace qcow2 {
namespace {

class Comparer {
 public:
  Comparer(const Image& img, CountingSink& counted, CheckStats& stats, size_t max_suspects, bool bulk,
           CompareOutput& out, const std::atomic<bool>* cancel)
      : img_(img), g_(img.geometry()), sink_(counted), counter_(counted.counter()), stats_(stats),
        max_suspects_(max_suspects), bulk_(bulk), out_(out), cancel_(cancel) {}

  Status run() {
    QCOW2_ASSIGN_OR_RETURN(std::vector<uint64_t> table, img_.read_refcount_table());
    const uint64_t clusters = counter_.clusters();
    std::vector<uint64_t> blocks;  // table indexes with a block to read, in order
    for (uint64_t i = 0; i < table.size(); ++i)
      if (valid(decode_reftable_entry(table[i], g_))) blocks.push_back(i);
    PrefetchReader reader(img_.file(), [&](size_t k) { return table[blocks[k]] & ~kRefTableReservedMask; },
                          blocks.size(), g_.cluster_size);
    for (uint64_t i = 0; i < table.size(); ++i) {
      QCOW2_RETURN_IF_ERROR(cancelled_check(cancel_));
      const RefTableEntry e = decode_reftable_entry(table[i], g_);
      const uint64_t first = i << g_.refblock_bits;
      if (!valid(e)) {
        if (first < clusters) miss(i, first);
        continue;
      }
      QCOW2_ASSIGN_OR_RETURN(std::span<const uint8_t> block, reader.next());
      compare_block(i, e.block_offset, first, block);
    }
    // Clusters beyond what the table can describe have no refcount at all.
    for (uint64_t i = table.size(); i < ((clusters + g_.refblock_entries - 1) >> g_.refblock_bits); ++i)
      miss(i, i << g_.refblock_bits);
    stats_.image_end_offset = end_cluster_ << g_.cluster_bits;
    return Status::Ok();
  }

 private:
  bool valid(const RefTableEntry& e) const {
    return e.used() && !e.reserved && !e.unaligned && e.block_offset < img_.file_size() &&
           g_.cluster_size <= img_.file_size() - e.block_offset;
  }

  void suspect(uint64_t c, uint64_t rc) {
    if (out_.suspects.size() < max_suspects_) out_.suspects.emplace(c, rc);
    else out_.suspects_truncated = true;
  }

  void tally(uint64_t c, uint64_t rc, uint64_t refs) {
    if (rc || refs) end_cluster_ = std::max(end_cluster_, c + 1);
    if (refs) {
      ++stats_.used_clusters;
      if (counter_.active(c)) ++stats_.active_clusters;
    } else if (!rc) {
      ++stats_.free_clusters;
    }
  }

  void miss(uint64_t index, uint64_t first) {
    const uint64_t end = std::min(first + g_.refblock_entries, counter_.clusters());
    uint64_t referenced = 0;
    uint64_t first_ref = 0;
    for (uint64_t c = first; c < end; ++c) {
      const uint64_t refs = counter_.get(c);
      tally(c, 0, refs);
      if (!refs) continue;
      if (!referenced++) first_ref = c;
      ++stats_.errors;
      ++stats_.rebuild;
      suspect(c, 0);
    }
    if (!referenced) return;
    Finding f = make_finding(
        "refcount-table-miss", Category::kRefcount, "refcount table",
        fmt::format("entry {} has no valid refcount block, but {} referenced clusters in its range "
                    "(first: cluster {} at 0x{:x}) have no refcount",
                    index, referenced, first_ref, first_ref << g_.cluster_bits),
        "rebuild the refcount block for this range from the references");
    f.file_offset = img_.header().refcount_table_offset + index * 8;
    f.index = index;
    f.cluster = first_ref;
    sink_.add_finding(std::move(f));
  }

  void compare_block(uint64_t index, uint64_t block_offset, uint64_t first, std::span<const uint8_t> block) {
    uint64_t past_eof = 0;
    switch (g_.refcount_order) {
      case 0: past_eof = compare_entries<0>(index, block_offset, first, block.data()); break;
      case 1: past_eof = compare_entries<1>(index, block_offset, first, block.data()); break;
      case 2: past_eof = compare_entries<2>(index, block_offset, first, block.data()); break;
      case 3: past_eof = compare_entries<3>(index, block_offset, first, block.data()); break;
      case 4: past_eof = compare_entries<4>(index, block_offset, first, block.data()); break;
      case 5: past_eof = compare_entries<5>(index, block_offset, first, block.data()); break;
      default: past_eof = compare_entries<6>(index, block_offset, first, block.data()); break;
    }
    if (past_eof) {
      stats_.leaks += past_eof;
      Finding f = make_finding("refcount-past-eof", Category::kLeak, fmt::format("refcount block {}", index),
                               fmt::format("{} clusters past the end of the file have a non-zero refcount",
                                           past_eof),
                               "qemu-img check -r leaks IMAGE (these clusters hold nothing)");
      f.file_offset = block_offset;
      f.index = index;
      sink_.add_finding(std::move(f));
    }
  }

  // Returns how many clusters past the end of the file have a non-zero refcount.
  template <uint32_t Order>
  uint64_t compare_entries(uint64_t index, uint64_t block_offset, uint64_t first, const uint8_t* block) {
    const uint64_t clusters = counter_.clusters();
    uint64_t past_eof = 0;
    const uint8_t* nibbles = bulk_ && Order == 4 && out_.watch.empty() ? counter_.nibbles() : nullptr;
    for (uint64_t j = 0; j < g_.refblock_entries; ++j) {
      const uint64_t c = first + j;
      if (nibbles && (j & 15) == 0 && c + 16 <= clusters && healthy16(nibbles, block, c, j)) {
        j += 15;
        continue;
      }
      const uint64_t rc = refcount_at_order<Order>(block, j);
      if (rc) ++stats_.refcount_used; else ++stats_.refcount_unused;
      if (c >= clusters) {
        if (rc) ++past_eof;
        continue;
      }
      const uint64_t refs = counter_.get(c);
      tally(c, rc, refs);
      if (rc != refs) mismatch(index, j, block_offset, c, rc, refs);
      if (!out_.watch.empty() && out_.watch.count(c)) suspect(c, rc);
      const bool copied_wrong = (counter_.active_copied(c) && rc != 1) || (counter_.active_not_copied(c) && rc == 1);
      if (copied_wrong) {
        ++stats_.copied_mismatches;
        suspect(c, rc);
      }
    }
    return past_eof;
  }

  // Sixteen clusters from c (a multiple of 16) in one state that agrees with entries j..j+15
  // of a 16-bit refcount block, which all hold that count: counted as tally() and the checks
  // in compare_entries() would, in one step. False (nothing counted) in any other case.
  bool healthy16(const uint8_t* nibbles, const uint8_t* block, uint64_t c, uint64_t j) {
    uint64_t pairs;
    std::memcpy(&pairs, nibbles + c / 2, 8);
    const uint8_t v = pairs & 15;
    if (pairs != 0x1111111111111111ULL * v) return false;
    uint64_t count;
    uint8_t flags;
    if (!counter_.decode_nibble(v, count, flags) || count > 0xffff) return false;
    const bool copied_wrong = (flags & RefCounter::kCopied && count != 1) || (flags & RefCounter::kNotCopied && count == 1);
    if (copied_wrong) return false;
    uint8_t want[32];
    for (int k = 0; k < 16; ++k) {
      want[2 * k] = static_cast<uint8_t>(count >> 8);
      want[2 * k + 1] = static_cast<uint8_t>(count);
    }
    if (std::memcmp(block + j * 2, want, 32) != 0) return false;
    if (count == 0) {
      stats_.refcount_unused += 16;
      stats_.free_clusters += 16;
      return true;
    }
    stats_.refcount_used += 16;
    stats_.used_clusters += 16;
    if (flags) stats_.active_clusters += 16;
    end_cluster_ = std::max(end_cluster_, c + 16);
    return true;
  }

  void mismatch(uint64_t index, uint64_t j, uint64_t block_offset, uint64_t c, uint64_t rc, uint64_t refs) {
    const bool leak = rc > refs;
    Finding f;
    if (leak) {
      ++stats_.leaks;
      f = make_finding("refcount-leak", Category::kLeak, fmt::format("refcount block {}", index),
                       fmt::format("cluster {} at 0x{:x}: refcount {} but {} references", c,
                                   c << g_.cluster_bits, rc, refs),
                       refs == 0 ? "if nothing was lost, free it: qemu-img check -r leaks IMAGE"
                                 : "lower the refcount to the reference count");
    } else {
      ++stats_.errors;
      if (rc == 0) ++stats_.rebuild;
      suspect(c, rc);
      f = make_finding(rc == 0 ? "refcount-zero" : "refcount-error", Category::kRefcount,
                       fmt::format("refcount block {}", index),
                       fmt::format("cluster {} at 0x{:x}: refcount {} but {} references{}", c,
                                   c << g_.cluster_bits, rc, refs,
                                   rc == 0 ? ": the allocator may hand it out again" : ""),
                       "raise the refcount to the reference count");
    }
    f.file_offset = block_offset + ((j << g_.refcount_order) >> 3);
    f.index = j;
    f.cluster = c;
    sink_.add_finding(std::move(f));
  }

  const Image& img_;
  const Geometry& g_;
  CountingSink& sink_;
  RefCounter& counter_;
  CheckStats& stats_;
  size_t max_suspects_;
  bool bulk_;
  CompareOutput& out_;
  const std::atomic<bool>* cancel_;
  uint64_t end_cluster_ = 0;
};

}  // namespace

Status compare_refcounts(const Image& img, CountingSink& counted, CheckStats& stats, size_t max_suspects,
                         bool bulk, CompareOutput& out, const std::atomic<bool>* cancel) {
  return Comparer(img, counted, stats, max_suspects, bulk, out, cancel).run();
}

}  // namespace qcow2
