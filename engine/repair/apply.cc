#include "engine/repair/apply.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "engine/format/header.h"
#include "engine/io/image_writer.h"
#include "engine/util/bytes.h"

namespace qcow2 {
namespace {

constexpr uint64_t kIncompatOffset = 72;
constexpr size_t kHeadBytes = 4096;                 // the image's identity in a journal
constexpr size_t kMaxCutRecord = 64u << 20;         // bytes cut off, kept in pieces of this size

// What one journaled write does: every record's `new` over its `old`, the file then cut or
// grown to `size_after`, and incompatible_features (v3) guarded meanwhile.
struct Job {
  uint64_t size_before = 0;
  uint64_t size_after = 0;
  std::vector<JournalRecord> records;  // journaled; written in order, the incompat one last
  std::vector<bool> punch;             // per record: a hole punched rather than bytes written
  std::vector<const Edit*> appends;    // written, not journaled (undone by cutting the file)
  bool guard = false;                  // version 3: set the corrupt bit while writing
  std::vector<uint8_t> incompat_final;  // the 8 bytes at 72 when done (guard only)
};

Status room_for(const std::string& path, uint64_t bytes) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return Status::Ok();  // cannot tell: the writes will say
  const uint64_t free = uint64_t{vfs.f_bavail} * vfs.f_frsize;
  if (free < bytes + (1u << 20))
    return Status::IOError(fmt::format("{}: {} bytes are free, the repair needs {}: nothing was written", dir, free,
                                       bytes + (1u << 20)));
  return Status::Ok();
}

Result<std::vector<uint8_t>> head_of(const ImageWriter& w, uint64_t size) {
  std::vector<uint8_t> head(std::min<uint64_t>(kHeadBytes, size));
  QCOW2_RETURN_IF_ERROR(w.read(0, head));
  return head;
}

constexpr uint64_t kContextAlign = 64u << 10;   // records are judged with the 64 KiB around them
constexpr uint64_t kMaxContext = 1u << 20;

// The windows around the records, inside [0, size): merged, in pieces of at most 1 MiB.
std::vector<std::pair<uint64_t, uint64_t>> context_windows(const std::vector<JournalRecord>& records, uint64_t size) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const JournalRecord& r : records) {
    if (r.offset >= size) continue;
    const uint64_t end = std::min(size, r.offset + std::max(r.old_bytes.size(), r.new_bytes.size()));
    spans.push_back({r.offset / kContextAlign * kContextAlign, std::min(size, align_up(end, kContextAlign))});
  }
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second) merged.back().second = std::max(merged.back().second, s.second);
    else merged.push_back(s);
  }
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [a, b] : merged)
    for (uint64_t at = a; at < b; at += kMaxContext) out.push_back({at, std::min(b, at + kMaxContext)});
  return out;
}

Result<std::vector<JournalContext>> contexts_of(const ImageWriter& w, const std::vector<JournalRecord>& records,
                                                uint64_t size) {
  std::vector<JournalContext> out;
  std::vector<uint8_t> buf;
  for (const auto& [a, b] : context_windows(records, size)) {
    buf.resize(b - a);
    QCOW2_RETURN_IF_ERROR(w.read(a, buf));
    out.push_back({a, static_cast<uint32_t>(b - a), crc_of(buf)});
  }
  return out;
}

// Whether the image around the records is the journal's: each window as it is now, with the
// records' old bytes laid back (whatever of them was written), has the CRC it had before.
Result<std::string> contexts_differ(const ImageWriter& w, const Journal& j, uint64_t size) {
  std::vector<uint8_t> buf;
  for (const JournalContext& c : j.contexts) {
    if (c.offset >= size || c.length > size - c.offset)
      return fmt::format("the file ends before the bytes at 0x{:x} the repair looked at", c.offset);
    buf.resize(c.length);
    QCOW2_RETURN_IF_ERROR(w.read(c.offset, buf));
    for (const JournalRecord& r : j.records) {
      const uint64_t a = std::max(r.offset, c.offset);
      const uint64_t b = std::min(r.offset + r.old_bytes.size(), c.offset + c.length);
      for (uint64_t k = a; k < b; ++k) buf[k - c.offset] = r.old_bytes[k - r.offset];
    }
    if (crc_of(buf) != c.crc) return fmt::format("the bytes around 0x{:x} are not the ones the repair saw", c.offset);
  }
  return std::string();
}

uint64_t journal_bytes(const Job& job, size_t head) {
  uint64_t n = 64 + head;
  for (const JournalRecord& r : job.records) n += 32 + r.old_bytes.size() + r.new_bytes.size();
  return n;
}

// Steps 2 to 4: the guard, the new structures past the end (before anything points at them),
// the edits inside the file, the size, the final feature bits.
Status write_job(ImageWriter& w, const Job& job, ApplyResult& out) {
  if (job.guard) {
    std::vector<uint8_t> now(8);
    QCOW2_RETURN_IF_ERROR(w.read(kIncompatOffset, now));
    const std::vector<uint8_t> guarded = be_bytes(load_be64(now.data()) | kIncompatCorrupt, 8);
    QCOW2_RETURN_IF_ERROR(w.write(kIncompatOffset, guarded));
    QCOW2_RETURN_IF_ERROR(w.sync_data());
  }
  for (const Edit* e : job.appends) {
    QCOW2_RETURN_IF_ERROR(w.write(e->offset, e->new_bytes));
    out.written += e->new_bytes.size();
  }
  for (size_t i = 0; i < job.records.size(); ++i) {
    const JournalRecord& r = job.records[i];
    if (job.guard && r.offset == kIncompatOffset) continue;  // last, below
    if (i < job.punch.size() && job.punch[i]) QCOW2_RETURN_IF_ERROR(w.punch(r.offset, r.new_bytes.size()));
    else if (!r.new_bytes.empty()) QCOW2_RETURN_IF_ERROR(w.write(r.offset, r.new_bytes));
    out.written += r.new_bytes.size();
  }
  if (w.size() != job.size_after) QCOW2_RETURN_IF_ERROR(w.truncate(job.size_after));
  QCOW2_RETURN_IF_ERROR(w.sync_data());
  if (job.guard) QCOW2_RETURN_IF_ERROR(w.write(kIncompatOffset, job.incompat_final));
  return w.sync();
}

// Every record's old bytes back, newest first, and the size before; what undo does, from the
// job in memory.
// The guard's field goes back last, so that the image stays marked corrupt until the rest is.
Status roll_back(ImageWriter& w, const Job& job) {
  const JournalRecord* incompat = nullptr;
  for (auto it = job.records.rbegin(); it != job.records.rend(); ++it) {
    if (job.guard && it->offset == kIncompatOffset) {
      incompat = &*it;
      continue;
    }
    if (!it->old_bytes.empty()) QCOW2_RETURN_IF_ERROR(w.write(it->offset, it->old_bytes));
  }
  if (w.size() != job.size_before) QCOW2_RETURN_IF_ERROR(w.truncate(job.size_before));
  QCOW2_RETURN_IF_ERROR(w.sync_data());
  if (incompat) QCOW2_RETURN_IF_ERROR(w.write(incompat->offset, incompat->old_bytes));
  return w.sync();
}

// Steps 1 to 5 of apply.h, for a plan or an undo alike.
Result<ApplyResult> run(ImageWriter& w, Job& job, const std::string& journal_path) {
  ApplyResult out;
  out.journal = journal_path;
  Journal j;
  j.size_before = job.size_before;
  j.size_after = job.size_after;
  QCOW2_ASSIGN_OR_RETURN(j.head, head_of(w, job.size_before));
  j.records = job.records;
  QCOW2_ASSIGN_OR_RETURN(j.contexts, contexts_of(w, j.records, std::min(job.size_before, w.size())));
  uint64_t appended = 0;
  for (const Edit* e : job.appends) appended += e->new_bytes.size();
  QCOW2_RETURN_IF_ERROR(room_for(journal_path, journal_bytes(job, j.head.size())));
  QCOW2_RETURN_IF_ERROR(room_for(w.path(), appended + (job.size_after > job.size_before ? job.size_after - job.size_before : 0)));

  QCOW2_ASSIGN_OR_RETURN(DurableFile journal, DurableFile::create(journal_path));
  Status journaled = journal.append(encode_journal_header(j));
  for (size_t i = 0; journaled.ok() && i < j.records.size(); ++i) journaled = journal.append(encode_journal_record(j.records[i]));
  if (journaled.ok()) journaled = journal.sync();
  if (!journaled.ok()) {
    // Nothing was written to the image: a torn journal would only be refused later.
    std::error_code ec;
    std::filesystem::remove(journal_path, ec);
    return Status::IOError(fmt::format("{}: nothing was written to the image", journaled.message()));
  }

  Status written = write_job(w, job, out);
  if (!written.ok()) {
    // The journal is synced: put back what was written, so that a failed repair (EIO, ENOSPC)
    // leaves the image as it was; if that fails too, the journal still undoes it.
    Status back = roll_back(w, job);
    if (back.ok()) {
      (void)journal.append(encode_journal_marker(JournalMarker::kUndone));
      (void)journal.sync();
      return Status::IOError(fmt::format("{}; the image was put back as it was", written.message()));
    }
    return Status::IOError(fmt::format("{}; putting the image back failed too ({}): run qcow2-dump --undo {} {}",
                                       written.message(), back.message(), journal_path, w.path()));
  }
  // The image is repaired and synced: a marker that cannot be written changes none of that
  // (the journal still undoes it), so it is a warning, not a failure.
  Status marked = journal.append(encode_journal_marker(JournalMarker::kApplied));
  if (marked.ok()) marked = journal.sync();
  if (!marked.ok())
    out.warning = fmt::format("the repair is done, but its journal could not be marked so ({}); it still undoes it",
                              marked.message());
  return out;
}

// Version 3 headers hold incompatible_features at 72; version 2 has no such field (72 is past
// its header), so there is nothing to guard with.
Result<bool> has_incompat_field(const ImageWriter& w) {
  std::vector<uint8_t> b(8);
  if (w.size() < 104) return false;
  QCOW2_RETURN_IF_ERROR(w.read(0, b));
  return load_be32(b.data() + 4) >= 3;
}

}  // namespace

std::string default_journal_path(const std::string& image_path) {
  const std::time_t t = std::time(nullptr);
  std::tm tm {};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  // Two repairs in one second get distinct journals: a journal is never overwritten.
  std::string path = fmt::format("{}.{}.qcow2fs-undo", image_path, stamp);
  for (int n = 2; std::filesystem::exists(path); ++n) path = fmt::format("{}.{}-{}.qcow2fs-undo", image_path, stamp, n);
  return path;
}

Result<ApplyResult> apply_plan(ImageWriter& w, const Plan& plan, const std::string& journal_path) {
  const std::string& image_path = w.path();
  if (w.size() != plan.size_before)
    return Status::InvalidArgument(fmt::format("{}: the file is {} bytes, the plan was made for {}: nothing was written",
                                               image_path, w.size(), plan.size_before));
  Job job;
  job.size_before = plan.size_before;
  job.size_after = plan.size_after;
  QCOW2_ASSIGN_OR_RETURN(job.guard, has_incompat_field(w));
  std::vector<uint8_t> incompat(8);
  if (job.guard) QCOW2_RETURN_IF_ERROR(w.read(kIncompatOffset, incompat));
  job.incompat_final = incompat;
  for (const Edit& e : plan.edits) {
    if (e.appended()) {
      job.appends.push_back(&e);
      continue;
    }
    // The bytes must still be what the plan expects: it may have been made a while ago.
    std::vector<uint8_t> now(e.old_bytes.size());
    QCOW2_RETURN_IF_ERROR(w.read(e.offset, now));
    if (now != e.old_bytes)
      return Status::InvalidArgument(fmt::format("{}: the bytes at 0x{:x} changed since the plan was made: nothing "
                                                 "was written",
                                                 image_path, e.offset));
    const bool touches_incompat = e.offset < kIncompatOffset + 8 && kIncompatOffset < e.offset + e.new_bytes.size();
    if (job.guard && touches_incompat) {
      if (e.offset != kIncompatOffset || e.new_bytes.size() != 8)
        return Status::InvalidArgument("an edit of incompatible_features must be the whole 8-byte field");
      job.incompat_final = e.new_bytes;
      continue;
    }
    job.records.push_back({e.offset, e.old_bytes, e.new_bytes});
    job.punch.resize(job.records.size());
    job.punch.back() = e.punch;
  }
  // incompatible_features is journaled whatever the plan does with it: the guard changes it.
  if (job.guard) job.records.push_back({kIncompatOffset, incompat, job.incompat_final});
  return run(w, job, journal_path);
}

Result<ApplyResult> undo_repair(ImageWriter& w, const std::string& journal_path, const std::string& undo_journal_path) {
  const std::string& image_path = w.path();
  QCOW2_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, DurableFile::read_all(journal_path));
  auto decoded = decode_journal(bytes);
  if (!decoded.ok())
    return Status::InvalidArgument(fmt::format("{}: {}: nothing was written", journal_path, decoded.status().message()));
  const Journal& j = *decoded;
  if (j.undone()) return Status::InvalidArgument(fmt::format("{}: this repair was undone already", journal_path));
  const uint64_t size = w.size();
  const auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument(fmt::format("{} does not belong to {} as it is now: {}; nothing was written",
                                               journal_path, image_path, why));
  };
  if (size < std::min(j.size_before, j.size_after) || size > std::max(j.size_before, j.size_after))
    return refuse(fmt::format("the file is {} bytes, the journal's repair took it from {} to {}", size,
                              j.size_before, j.size_after));
  QCOW2_ASSIGN_OR_RETURN(const bool guard, has_incompat_field(w));
  // The identity: the first bytes as the journal saw them, except where its records write
  // (they hold either their old or their new bytes) and the guarded field.
  std::vector<bool> recorded(j.head.size(), false);
  for (const JournalRecord& r : j.records)
    for (uint64_t k = r.offset; k < r.offset + std::max(r.old_bytes.size(), r.new_bytes.size()) && k < recorded.size(); ++k)
      recorded[k] = true;
  std::vector<uint8_t> head(std::min<uint64_t>(j.head.size(), size));
  QCOW2_RETURN_IF_ERROR(w.read(0, head));
  for (size_t k = 0; k < head.size(); ++k)
    if (!recorded[k] && !(guard && k >= kIncompatOffset && k < kIncompatOffset + 8) && head[k] != j.head[k])
      return refuse(fmt::format("byte 0x{:x} of its header differs", k));

  QCOW2_ASSIGN_OR_RETURN(const std::string differ, contexts_differ(w, j, size));
  if (!differ.empty()) return refuse(differ);

  Job job;
  job.size_before = size;
  job.size_after = j.size_before;
  job.guard = guard;
  job.incompat_final = std::vector<uint8_t>(8);
  if (guard) QCOW2_RETURN_IF_ERROR(w.read(kIncompatOffset, job.incompat_final));
  for (auto it = j.records.rbegin(); it != j.records.rend(); ++it) {
    const JournalRecord& r = *it;
    if (r.offset >= size) {  // a tail an earlier undo cut off: it is written back
      job.records.push_back({r.offset, {}, r.old_bytes});
      continue;
    }
    std::vector<uint8_t> now(std::min<uint64_t>(r.new_bytes.size(), size - r.offset));
    QCOW2_RETURN_IF_ERROR(w.read(r.offset, now));
    const bool is_incompat = guard && r.offset == kIncompatOffset && r.old_bytes.size() == 8;
    const auto same_but_guard = [&](const std::vector<uint8_t>& want) {
      return want.size() == 8 && (load_be64(now.data()) & ~kIncompatCorrupt) == (load_be64(want.data()) & ~kIncompatCorrupt);
    };
    // A crash mid-write can leave a record torn (some sectors new, some old): each byte must be
    // the repair's old or new one; any other byte means the journal is not this image's.
    const auto each_old_or_new = [&] {
      for (size_t k = 0; k < now.size(); ++k)
        if (!(k < r.old_bytes.size() && now[k] == r.old_bytes[k]) && !(k < r.new_bytes.size() && now[k] == r.new_bytes[k]))
          return false;
      return true;
    };
    const bool ok = each_old_or_new() ||
                    (is_incompat && (same_but_guard(r.new_bytes) || same_but_guard(r.old_bytes)));
    if (!ok) return refuse(fmt::format("the {} bytes at 0x{:x} are neither what the repair found nor what it wrote",
                                       now.size(), r.offset));
    if (is_incompat) {
      job.incompat_final = r.old_bytes;
      continue;
    }
    job.records.push_back({r.offset, now, r.old_bytes});
  }
  // Bytes past the size to go back to are cut off; kept, so that this undo can be undone.
  for (uint64_t at = j.size_before; at < size; at += kMaxCutRecord) {
    std::vector<uint8_t> tail(std::min<uint64_t>(kMaxCutRecord, size - at));
    QCOW2_RETURN_IF_ERROR(w.read(at, tail));
    job.records.push_back({at, std::move(tail), {}});
  }
  if (guard) {
    std::vector<uint8_t> now(8);
    QCOW2_RETURN_IF_ERROR(w.read(kIncompatOffset, now));
    job.records.push_back({kIncompatOffset, now, job.incompat_final});
  }
  QCOW2_ASSIGN_OR_RETURN(ApplyResult out, run(w, job, undo_journal_path));
  QCOW2_ASSIGN_OR_RETURN(DurableFile original, DurableFile::append_to(journal_path));
  QCOW2_RETURN_IF_ERROR(original.append(encode_journal_marker(JournalMarker::kUndone)));
  QCOW2_RETURN_IF_ERROR(original.sync());
  return out;
}

}  // namespace qcow2
