// `qcow2-dump -m dump`: every L1/L2 entry of one L1 table, and every refcount.
// Output is streamed table by table: memory stays at one L2 table or refcount block however
// large the image is. Line formats are documented in man/qcow2-dump.1 (OUTPUT); tests parse them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/check/layout.h"
#include "engine/io/image.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"
#include "engine/util/status.h"
#include "engine/walk/table_walk.h"

namespace qcow2 {

struct DumpOptions {
  bool flags = false;  // -f: raw entries and decoded flags on every L1/L2 line
};

struct L1Counters {
  uint64_t unaligned = 0, invalid = 0, unused = 0, used = 0;
};

// One L1 table to dump: its section title, where it is, and its decoded entries (from the
// layout), or null with the layout's reason why they cannot be read.
struct L1Dump {
  std::string title;
  uint64_t offset = 0;
  uint64_t size = 0;
  const std::vector<uint64_t>* entries = nullptr;
  std::string problem;
  // Set when an earlier section of this output showed the same table (snapshots naming one L1
  // table): that section's title; the entries are not repeated.
  std::string same_as;
};

// Prints the title, the L1 table line, every non-zero L1 entry and every allocated or
// zero-flagged L2 entry, a counter line per L2 table and one for the L1 table. An L2 table
// already printed in this output (`shown`, shared by its sections) is named, not repeated.
// Fails (after printing why) when the L1 table cannot be read, or an L2 read fails for a
// reason other than its pointer.
Status render_l1_dump(const Image& img, const Layout& layout, const L1Dump& t, ShownTables& shown,
                      const DumpOptions& opt, const Style& st, TextSink& out);

// Prints the refcount table line, every non-zero refcount-table entry and, for each block the
// layout accepts, every non-zero refcount with its counter line; then the table's counters.
Status render_refcount_dump(const Image& img, const Layout& layout, const DumpOptions& opt, const Style& st,
                            TextSink& out);

// "Active Snapshot:" and "Snapshot[i] id ID name NAME:", the section titles of a dump.
std::string active_section_title();
std::string snapshot_section_title(const Snapshot& s);

}  // namespace qcow2
