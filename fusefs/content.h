// A file's bytes: rendered from the engine on demand, whole, so its size is exact and a reader
// holding it never sees a torn file.
#pragma once

#include <ctime>
#include <memory>
#include <string>

#include "fusefs/fs.h"

namespace qcow2fs {

struct Content {
  std::shared_ptr<const std::string> text;
  bool final = true;      // will not change again in this view
  std::time_t mtime = 0;  // when it last changed: the view's time, or when its check finished
};

// Whether a node's text depends on the check (findings, computed counts, the report).
bool uses_check(Kind k);
// Whether a node's text is meaningless without the check's result (report.txt, report.json,
// clusters): requests for it are parked until the check is done (parking.h) rather than shown
// a partial answer that a script could mistake for the real one.
bool needs_check(Kind k);

// Renders file node `n` of view `v`, or takes it from the view's cache. For a node that
// needs_check, call only once the check is done.
Content content_of(Fs& fs, View& v, const Node& n);

}  // namespace qcow2fs
