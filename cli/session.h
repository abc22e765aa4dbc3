// What the info and dump modes share: opening the image, judging it, finishing the run.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/options.h"
#include "engine/io/image.h"
#include "engine/render/text_sink.h"

namespace qcow2::cli {

// An exit code and, when it is not 0, the one stderr line that explains it.
struct Verdict {
  int code = 0;
  std::string message;
  // Keeps the more serious of two verdicts (6 over 5 over 0; the first on a tie).
  void merge(Verdict other);
};

// Opens opt.image read-only. On failure the error is reported and its exit code returned.
std::optional<int> open_image(const Options& opt, std::unique_ptr<Image>& img);

// What the image's own state calls for once everything is printed: 6 for an error or fatal
// header problem, 5 for a damaged snapshot table, else 0.
Verdict image_verdict(const Image& img);

// Flushes stdout, reports a failed write, else reports the verdict; returns the exit code.
int finish(FileSink& out, const Verdict& v);

}  // namespace qcow2::cli
