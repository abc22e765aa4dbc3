#include "engine/check/l2_scan.h"

#include <fmt/format.h>

#include "engine/check/ref_counter.h"
#include "engine/format/compressed.h"
#include "engine/format/extent.h"
#include "engine/util/bytes.h"

namespace qcow2 {

L2Scanner::L2Scanner(const Image& img, ReferenceSink& sink, CheckStats* stats, bool verify_compressed, bool bulk,
                     const std::atomic<bool>* cancel)
    : img_(img), g_(img.geometry()), sink_(sink), stats_(stats), verify_compressed_(verify_compressed),
      findings_(sink.wants_findings()), bulk_(bulk), cancel_(cancel) {}

Status L2Scanner::verify_stream(const L2Entry& e) {
  // The stream's bytes in the file: none when its first byte lies in the partial last sector,
  // past the end.
  const uint64_t size = img_.file_size();
  const uint64_t in_file = e.comp_offset < size ? std::min(e.comp_length, size - e.comp_offset) : 0;
  if (in_file == 0) return Status::Corruption(fmt::format("its first byte lies past the end of the {}-byte file", size));
  StreamVerdict& v = streams_[e.comp_offset];
  if (in_file >= v.ok_from) return Status::Ok();
  if (in_file <= v.bad_upto) return Status::Corruption(v.why);
  packed_.resize(in_file);
  plain_.resize(g_.cluster_size);
  Status s = img_.file().read(e.comp_offset, packed_);
  if (s.ok()) s = decompress_cluster(static_cast<CompressionType>(img_.header().compression_type), packed_, plain_);
  if (s.ok()) {
    v.ok_from = in_file;
  } else {
    v.bad_upto = in_file;
    v.why = s.message();
  }
  return s;
}

Finding* L2Scanner::report(const char* code, const L2Table& t, uint64_t index, const L2Entry& e, std::string msg,
                           std::string fix) {
  ++invalid_in_table_;
  if (!findings_) return nullptr;
  Finding f = make_finding(code, Category::kCorrupt, fmt::format("L2 table 0x{:x}", t.offset),
                           std::move(msg), std::move(fix));
  f.table_offset = t.offset;
  f.at_field(t.offset + index * g_.l2_entry_bytes, 8, e.raw);
  f.index = index;
  f.guest_offset = g_.guest_offset(t.l1_index, index);
  pending_.push_back(std::move(f));
  return &pending_.back();
}

// Findings wait until the table is done: a table whose entries are mostly not L2 entries is
// most likely not an L2 table at all (guest data, or a table overwritten), and what it seems
// to say is marked as derived from a suspect table.
void L2Scanner::finish_table(const L2Table& t) {
  const bool suspect = used_in_table_ >= kMinEntriesForVerdict && invalid_in_table_ * 2 > used_in_table_;
  if (suspect && findings_) {
    Finding f = make_finding(
        "l2-suspect-table", Category::kCorrupt, fmt::format("L2 table 0x{:x}", t.offset),
        fmt::format("{} of its {} used entries are not valid L2 entries: the cluster is most likely not an L2 "
                    "table (guest data, or a table overwritten), and what it seems to say is not trusted",
                    invalid_in_table_, used_in_table_),
        "find the L1 entry that points here (see the L1 findings) and restore it from a backup");
    f.table_offset = t.offset;
    f.file_offset = t.offset;
    f.width = static_cast<uint32_t>(g_.cluster_size);
    sink_.finding(std::move(f));
  }
  for (Finding& f : pending_) {
    f.suspect |= suspect;
    sink_.finding(std::move(f));
  }
  pending_.clear();
}

void L2Scanner::scan(const L2Table& t, std::span<const uint8_t> table) {
  used_in_table_ = 0;
  invalid_in_table_ = 0;
  streams_.clear();
  EntryStats* st = nullptr;
  if (stats_) st = t.active_times ? &stats_->l2 : &stats_->snapshot_l2;
  next_contiguous_ = 0;
  RefCounter* fast = g_.extended_l2 || g_.external_data ? nullptr : sink_.plain_counter();
  // Entries past the disk map VM state; they take the general path.
  const uint64_t guest0 = g_.guest_offset(t.l1_index, 0);
  const uint64_t in_disk =
      t.disk_size <= guest0 ? 0 : std::min(g_.l2_entries, (t.disk_size - guest0 + g_.cluster_size - 1) >> g_.cluster_bits);
  const bool runs = bulk_ && fast && fast->nibbles();
  uint64_t no_run_before = 0;  // entries already seen not to start a countable run
  for (uint64_t i = 0; i < g_.l2_entries; ++i) {
    if (runs && i < in_disk && i >= no_run_before) {
      const uint64_t n = run(t, table, i, in_disk, *fast, st);
      if (n > 0) {
        i += n - 1;
        continue;
      }
      no_run_before = i + run_length_seen_;
    }
    if (!(fast && i < in_disk && plain_entry(t, i, load_be64(&table[i * 8]), *fast, st)))
      entry(t, i, l2_entry_at(table, i, g_), st);
  }
  finish_table(t);
}

uint64_t L2Scanner::run(const L2Table& t, std::span<const uint8_t> table, uint64_t i, uint64_t end,
                        RefCounter& counter, EntryStats* st) {
  // A run worth the bulk path: plain entries, all with or all without COPIED, pointing at
  // consecutive clusters.
  constexpr uint64_t kMinRun = 16;
  run_length_seen_ = 1;
  const uint64_t first = load_be64(&table[i * 8]);
  const uint64_t off = first & kOffsetMask;
  if ((first & ~(kOffsetMask | kEntryCopied)) != 0 || off == 0 || (off & (g_.cluster_size - 1)) != 0) return 0;
  uint64_t n = 1;
  for (uint64_t want = first + g_.cluster_size; i + n < end && load_be64(&table[(i + n) * 8]) == want;
       want += g_.cluster_size)
    ++n;
  run_length_seen_ = n;  // a shorter run starting inside this one fails the same way
  const uint64_t last = off + (n - 1) * g_.cluster_size;
  if (n < kMinRun || !inside_file(last, g_.cluster_size, img_.file_size()) || (last & ~kOffsetMask) != 0) return 0;
  const bool copied = first & kEntryCopied;
  const uint8_t flags = t.active_times == 0 ? 0 : copied ? RefCounter::kCopied : RefCounter::kNotCopied;
  if (!counter.add_fresh_run(off >> g_.cluster_bits, n, t.times, flags)) return 0;
  used_in_table_ += n;
  // What plain_entry would have counted, entry by entry.
  if (st) st->used += n;
  if (stats_ && t.active_times) {
    stats_->allocated_clusters += n;
    if (next_contiguous_ != 0 && off != next_contiguous_) ++stats_->fragmented_clusters;
    next_contiguous_ = last + g_.cluster_size;
    if (copied) stats_->cow_growth_clusters += n;
  }
  return n;
}

bool L2Scanner::plain_entry(const L2Table& t, uint64_t i, uint64_t raw, RefCounter& counter, EntryStats* st) {
  if (raw == 0) {
    if (st) ++st->unused;
    return true;
  }
  const uint64_t off = raw & kOffsetMask;
  const bool plain = (raw & ~(kOffsetMask | kEntryCopied)) == 0 && off != 0 &&
                     (off & (g_.cluster_size - 1)) == 0 && inside_file(off, g_.cluster_size, img_.file_size());
  if (!plain) return false;
  const bool copied = raw & kEntryCopied;
  ++used_in_table_;
  if (st) ++st->used;
  if (stats_ && t.active_times) {
    ++stats_->allocated_clusters;
    if (next_contiguous_ != 0 && off != next_contiguous_) ++stats_->fragmented_clusters;
    next_contiguous_ = off + g_.cluster_size;
    if (copied) ++stats_->cow_growth_clusters;
  }
  const uint64_t c = off >> g_.cluster_bits;
  if (t.active_times) counter.add_active(c, t.times, copied);
  else counter.add(c, t.times);
  return true;
}

void L2Scanner::entry(const L2Table& t, uint64_t i, const L2Entry& e, EntryStats* st) {
  const uint64_t guest = g_.guest_offset(t.l1_index, i);
  const bool vm_state = guest >= t.disk_size;
  const bool active = t.active_times > 0;
  Referrer r{vm_state ? Role::kVmState : Role::kData, t.first_snapshot,
             t.offset + i * g_.l2_entry_bytes, t.offset, i, t.l1_index, guest};
  if (e.raw != 0 || e.bitmap != 0) ++used_in_table_;

  if (e.kind == L2Kind::kCompressed) {
    compressed(t, i, e, r, st);
    return;
  }
  if (e.reserved) {
    if (st) ++st->reserved;
    if (Finding* f = report("l2-reserved-bits", t, i, e,
                            fmt::format("L2 entry 0x{:016x} has reserved bits 0x{:x} set", e.raw, e.reserved),
                            "clear the reserved bits (the data offset is kept)"))
      f->mask = e.reserved;
  }
  if (g_.extended_l2 && e.alloc_and_zero())
    if (Finding* f = report("l2-subcluster-alloc-and-zero", t, i, e,
                            fmt::format("subclusters 0x{:08x} are marked both allocated and zero", e.alloc_and_zero()),
                            "clear their zero bits if the data is wanted, or their allocation bits"))
      f->at_field(t.offset + i * g_.l2_entry_bytes + 8, 8, e.bitmap, uint64_t{e.alloc_and_zero()} << 32);
  if (e.kind == L2Kind::kUnallocated) {
    if (st) ++st->unused;
    if (g_.extended_l2 && e.alloc_mask() && !g_.external_data) {
      if (Finding* f = report("l2-unallocated-with-alloc-bits", t, i, e,
                              fmt::format("no host cluster, but subclusters 0x{:08x} are marked allocated",
                                          e.alloc_mask()),
                              "clear the allocation bits"))
        f->at_field(t.offset + i * g_.l2_entry_bytes + 8, 8, e.bitmap, e.alloc_mask());
    } else if (e.copied && !g_.external_data) {
      if (Finding* f = report("l2-copied-unallocated", t, i, e, "COPIED is set on an entry without a host cluster",
                              "clear bit 63 of the entry"))
        f->mask = kEntryCopied;
    }
    return;
  }
  // Version 2 has no zero clusters: QEMU fails reads of an entry with bit 0 set.
  if (e.zero_flag && img_.header().version < 3)
    if (Finding* f = report("l2-zero-flag-v2", t, i, e,
                            "bit 0 (the zero flag) is set in a version 2 image, which has no zero clusters: QEMU "
                            "fails to read this cluster",
                            "clear bit 0 of the entry, or upgrade with qemu-img amend -o compat=1.1"))
      f->mask = kL2ZeroFlag;
  if (e.kind == L2Kind::kZeroPlain) {
    if (st) ++st->zero_plain;
    return;
  }
  if (st) ++(e.kind == L2Kind::kZeroAlloc ? st->zero_alloc : st->used);
  if (e.unaligned) {
    if (st) ++st->unaligned;
    report(e.kind == L2Kind::kZeroAlloc ? "l2-prealloc-unaligned" : "l2-unaligned", t, i, e,
           fmt::format("host offset 0x{:x} is not cluster aligned", e.host_offset),
           "restore the entry (see the proposed value, if any)");
    return;
  }
  if (stats_ && active && !vm_state) {
    ++stats_->allocated_clusters;
    // qemu-img's rule: fragmented unless right after the previous normal cluster of this table.
    // The "previous end" is never 0 once set, even for host offset 0 in an external data file.
    if (next_contiguous_ != 0 && e.host_offset != next_contiguous_) ++stats_->fragmented_clusters;
    next_contiguous_ = e.host_offset + g_.cluster_size;
    if (e.copied) ++stats_->cow_growth_clusters;
  }
  if (g_.external_data) return;  // data lives in the data file: no refcounts
  switch (data_placement(e, g_, img_.file_size())) {
    case Placement::kPastEof:
      if (st) ++st->invalid;
      report("l2-past-eof", t, i, e, fmt::format("host offset 0x{:x} lies past the end of the file", e.host_offset),
             "restore the entry (see the proposed value, if any)");
      return;
    case Placement::kCut:
      report("l2-cluster-cut", t, i, e,
             fmt::format("the data cluster at 0x{:x} needs {} bytes but the file ends {} bytes into it: the rest "
                         "of the guest data is lost (the file was truncated)",
                         e.host_offset, data_bytes_needed(e, g_), img_.file_size() - e.host_offset),
             "restore the end of the file from a backup; reads of the missing bytes return zeros");
      break;
    case Placement::kInside: break;
  }
  const uint64_t c = g_.cluster_index(e.host_offset);
  sink_.reference(c, 1, t.times, r);
  if (active) sink_.active(c, e.copied);
}

void L2Scanner::compressed(const L2Table& t, uint64_t i, const L2Entry& e, const Referrer& r, EntryStats* st) {
  if (st) ++st->compressed;
  if (stats_ && t.active_times && r.role == Role::kData) {
    ++stats_->allocated_clusters;
    ++stats_->fragmented_clusters;
    ++stats_->compressed_clusters;
    // qemu-img counts every compressed cluster as fragmented and leaves the contiguity of the
    // normal clusters around it alone.
  }
  if (e.copied)
    if (Finding* f = report("l2-compressed-copied", t, i, e, "COPIED is set on a compressed cluster",
                            "clear bit 63 of the entry"))
      f->mask = kEntryCopied;
  if (g_.external_data) {
    report("l2-compressed-data-file", t, i, e, "compressed cluster in an image with an external data file",
           "the entry cannot be read; restore it from a backup");
    return;
  }
  if (g_.extended_l2 && e.bitmap) {
    if (Finding* f = report("l2-compressed-bitmap", t, i, e,
                            fmt::format("compressed cluster with a non-zero subcluster bitmap 0x{:016x}", e.bitmap),
                            "clear the bitmap word"))
      f->at_field(t.offset + i * g_.l2_entry_bytes + 8, 8, e.bitmap);
    return;
  }
  // QEMU reads whole sectors from the one holding the first byte; the last of them may stand
  // past the end of the file when this stream ends the file.
  const uint64_t size = img_.file_size();
  const uint64_t start = e.comp_offset & ~511ULL;
  if (e.comp_offset == 0 || start >= size) {
    if (st) ++st->invalid;
    report("l2-compressed-past-eof", t, i, e,
           fmt::format("compressed data at 0x{:x} lies outside the file", e.comp_offset),
           "restore the entry from a backup");
    return;
  }
  const uint64_t len = std::min((e.comp_extra_sectors + 1) * 512, size - start);
  const uint64_t first = g_.cluster_index(start);
  const uint64_t last = g_.cluster_index(start + len - 1);
  sink_.reference(first, last - first + 1, t.times, r);
  if (!verify_compressed_ || !findings_) return;

  // Decompressing is the costly part: a stopped check must not wait for a table of them.
  if (cancel_ && ++since_cancel_check_ % 256 == 0) cancelled_ = cancel_->load(std::memory_order_relaxed);
  if (cancelled_) return;  // the walk stops at the next table
  const Status s = verify_stream(e);
  if (!s.ok())
    report("l2-compressed-bad-stream", t, i, e,
           fmt::format("compressed cluster at 0x{:x} ({} bytes) does not decompress to one cluster: {}",
                       e.comp_offset, e.comp_length, s.message()),
           "the guest cluster is unreadable; restore it from a backup or a snapshot");
}

}  // namespace qcow2
