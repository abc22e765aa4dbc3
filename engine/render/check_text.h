// `qcow2-dump -m check` and `-m error`: statistics, findings and the status banner with advice.
// Also what the mounted tree serves as report.txt (errors = true, no colour).
#pragma once

#include "engine/check/checker.h"
#include "engine/render/style.h"
#include "engine/render/text_sink.h"

namespace qcow2 {

struct CheckTextOptions {
  bool errors = false;  // -m error: every finding with its parent context
  bool show_refcount = true;   // -o refcount|all
  bool show_snapshot = true;   // -o snapshot|all
};

void render_check(const Image& img, const CheckResult& r, const CheckTextOptions& opt, const Style& st,
                  TextSink& out);

// The framed status banner and the advice lines.
void render_status_banner(const CheckResult& r, const Style& st, TextSink& out);

}  // namespace qcow2
