#include "engine/check/refcount_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "engine/check/reference_walk.h"
#include "engine/format/l1_entry.h"
#include "engine/format/refcount.h"
#include "engine/io/prefetch_reader.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

class Comparer {
 public:
  Comparer(const Image& img, const Layout& layout, CountingSink& counted, CheckStats& stats, size_t max_suspects,
           bool bulk, CompareOutput& out, const std::atomic<bool>* cancel, const TableProgress& on_block)
      : img_(img), layout_(layout), g_(img.geometry()), sink_(counted), counter_(counted.counter()), stats_(stats),
        max_suspects_(max_suspects), bulk_(bulk), out_(out), cancel_(cancel), on_block_(on_block) {}

  Status run() {
    // Each block the layout accepted is distinct and inside the file: reading them all costs at
    // most the file, however many table entries claim a block.
    const std::vector<uint64_t>& table = layout_.reftable();
    const uint64_t clusters = counter_.clusters();
    std::vector<uint64_t> blocks;  // table indexes with a block to read, in order
    for (uint64_t i = 0; i < table.size(); ++i)
      if (layout_.block_ok(i)) blocks.push_back(i);
    PrefetchReader reader(img_.file(), [&](size_t k) { return table[blocks[k]] & ~kRefTableReservedMask; },
                          blocks.size(), g_.cluster_size);
    size_t blocks_read = 0;
    for (uint64_t i = 0; i < table.size(); ++i) {
      QCOW2_RETURN_IF_ERROR(cancelled_check(cancel_));
      const RefTableEntry e = decode_reftable_entry(table[i], g_);
      const uint64_t first = i << g_.refblock_bits;
      if (!layout_.block_ok(i)) {
        if (first < clusters) miss(i, first);
        continue;
      }
      QCOW2_ASSIGN_OR_RETURN(std::span<const uint8_t> block, reader.next());
      compare_block(i, e.block_offset, first, block);
      if (on_block_) on_block_(++blocks_read, blocks.size());
    }
    // Clusters beyond what the table can describe have no refcount at all.
    for (uint64_t i = table.size(); i < ((clusters + g_.refblock_entries - 1) >> g_.refblock_bits); ++i)
      miss(i, i << g_.refblock_bits);
    stats_.image_end_offset = end_cluster_ << g_.cluster_bits;
    return Status::Ok();
  }

 private:
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
      suspect(c, kNoRefcount);
    }
    if (!referenced) return;
    Finding f = make_finding(
        "refcount-table-miss", Category::kRefcount, "refcount table",
        fmt::format("entry {} has no valid refcount block, but {} referenced clusters in its range "
                    "(first: cluster {} at 0x{:x}) have no refcount",
                    index, referenced, first_ref, first_ref << g_.cluster_bits),
        "rebuild the refcount block for this range from the references");
    if (index < layout_.reftable().size())
      f.at_field(img_.header().refcount_table_offset + index * 8, 8, layout_.reftable()[index]);
    f.table_offset = img_.header().refcount_table_offset;
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
    stats_.leaks += past_eof;
  }

  // A refcount finding about entry j of the block at block_offset (held in `block`).
  Finding refcount_finding(const char* code, Category cat, uint64_t index, uint64_t j, uint64_t block_offset,
                           const uint8_t* block, std::string msg, std::string fix) {
    Finding f = make_finding(code, cat, fmt::format("refcount block {}", index), std::move(msg), std::move(fix));
    const RefcountField rf = refcount_field(block_offset, j, g_.refcount_order);
    f.table_offset = block_offset;
    f.at_field(rf.offset, rf.width, load_be(block + (rf.offset - block_offset), rf.width), rf.mask);
    f.index = j;
    return f;
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
        if (!rc) continue;
        ++past_eof;
        Finding f = refcount_finding("refcount-past-eof", Category::kLeak, index, j, block_offset, block,
                                     fmt::format("cluster {} at 0x{:x} lies past the end of the file but has "
                                                 "refcount {}",
                                                 c, c << g_.cluster_bits, rc),
                                     "set the refcount to 0 (the cluster does not exist: nothing is lost)");
        f.cluster = c;
        f.propose(0, Risk::kSafe);
        sink_.add_finding(std::move(f));
        continue;
      }
      const uint64_t refs = counter_.get(c);
      tally(c, rc, refs);
      if (rc != refs) mismatch(index, j, block_offset, block, c, rc, refs);
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

  void mismatch(uint64_t index, uint64_t j, uint64_t block_offset, const uint8_t* block, uint64_t c, uint64_t rc,
                uint64_t refs) {
    const bool leak = rc > refs;
    const std::string where = fmt::format("cluster {} at 0x{:x}: refcount {} but {} references", c,
                                          c << g_.cluster_bits, rc, refs);
    Finding f;
    if (leak) {
      ++stats_.leaks;
      f = refcount_finding("refcount-leak", Category::kLeak, index, j, block_offset, block, where,
                           refs == 0 ? "if nothing was lost, free it: set the refcount to 0"
                                     : "lower the refcount to the reference count");
    } else {
      ++stats_.errors;
      if (rc == 0) ++stats_.rebuild;
      suspect(c, rc);
      f = refcount_finding(rc == 0 ? "refcount-zero" : "refcount-error", Category::kRefcount, index, j,
                           block_offset, block,
                           where + (rc == 0 ? ": the allocator may hand it out again" : ""),
                           "raise the refcount to the reference count");
    }
    f.cluster = c;
    // What the references call for; whether it is proposed, and at what risk, is decided once
    // every finding is known (propose.cc).
    const RefcountField rf = refcount_field(block_offset, j, g_.refcount_order);
    f.proposed = (f.current.value_or(0) & ~rf.mask) | ((std::min(refs, refcount_max(g_.refcount_order)) << rf.shift) & rf.mask);
    sink_.add_finding(std::move(f));
  }

  const Image& img_;
  const Layout& layout_;
  const Geometry& g_;
  CountingSink& sink_;
  RefCounter& counter_;
  CheckStats& stats_;
  size_t max_suspects_;
  bool bulk_;
  CompareOutput& out_;
  const std::atomic<bool>* cancel_;
  const TableProgress& on_block_;
  uint64_t end_cluster_ = 0;
};

}  // namespace

Status compare_refcounts(const Image& img, const Layout& layout, CountingSink& counted, CheckStats& stats,
                         size_t max_suspects, bool bulk, CompareOutput& out, const std::atomic<bool>* cancel,
                         const TableProgress& on_block) {
  return Comparer(img, layout, counted, stats, max_suspects, bulk, out, cancel, on_block).run();
}

}  // namespace qcow2
