// Fuzz target: cluster 0 of an image. Decodes and validates the header, parses the extension
// area and renders every header view (qcow2-dump's header block, the mounted `header`,
// `features` and `extensions/` files), first from the bytes alone, then through Image::open
// of the same bytes as a file, which is how the tools get there.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/format/extensions.h"
#include "engine/format/header.h"
#include "engine/io/image.h"
#include "engine/render/extension_file_text.h"
#include "engine/render/extension_text.h"
#include "engine/render/header_table_text.h"
#include "engine/render/header_text.h"
#include "engine/render/text_sink.h"
#include "tests/fuzz/mem_image.h"

namespace {

// Cluster 0 is at most 2 MiB; longer inputs add nothing here.
constexpr size_t kMaxInput = 2u << 20;

void render_extension_files(const qcow2::Extensions& ext, qcow2::TextSink& out) {
  qcow2::render_extensions(ext, qcow2::Style(false), out);
  qcow2::render_extensions(ext, qcow2::Style(true), out);
  for (size_t i = 0; i < ext.all.size(); ++i) {
    if (!qcow2::extension_has_file(ext.all[i])) continue;
    out.write(qcow2::extension_file_name(ext.all[i], i));
    qcow2::render_extension_file(ext.all[i], out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  const std::span<const uint8_t> bytes(data, size);
  qcow2::StringSink out;

  auto h = qcow2::decode_header(bytes);
  if (!h.ok()) return 0;
  for (const auto& p : qcow2::validate_header(*h, size)) out.write(p.message);
  for (const auto& f : qcow2::header_fields(*h)) out.print("{} {}\n", f.name, f.value);
  render_extension_files(qcow2::parse_extensions(bytes, *h), out);

  auto img = qcow2::Image::open(qcow2fuzz::write_image(data, size));
  if (img.ok()) {
    qcow2::render_header(**img, qcow2::Style(false), out);
    qcow2::render_header(**img, qcow2::Style(true), out);
    qcow2::render_header_table(**img, out);
    qcow2::render_features_table(**img, out);
    render_extension_files((*img)->extensions(), out);
  }
  return 0;
}
