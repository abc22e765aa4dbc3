// `qcow2-dump -m check` and `-m error`: statistics, findings and the status banner with advice.
// Also what the mounted tree serves as report.txt (errors = true, no colour).
#pragma once

#include "engine/check/checker.h"
#include "engine/check/prealloc_layout.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

struct CheckTextOptions {
  bool errors = false;  // -m error: every finding with its parent context
  bool show_refcount = true;   // -o refcount|all
  bool show_snapshot = true;   // -o snapshot|all
  const PreallocReport* prealloc = nullptr;  // -p: a "Prealloc Layout" section before the summary
};

void render_check(const Image& img, const CheckResult& r, const CheckTextOptions& opt, const Style& st,
                  TextSink& out);

// The framed status banner and the advice lines; commands name `image_path`.
void render_status_banner(const CheckResult& r, const std::string& image_path, const Style& st, TextSink& out);

// `text` with each IMAGE placeholder replaced by the path, quoted for a POSIX shell when needed,
// so advice is a command that can be pasted as it is.
std::string with_image_path(std::string text, const std::string& image_path);

}  // namespace qcow2
