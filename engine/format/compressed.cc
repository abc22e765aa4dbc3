// Compressed clusters, decoded the way QEMU's block/qcow2-threads.c does so that we accept
// exactly what QEMU would read, but with a reason instead of a bare -EIO.
#include "engine/format/compressed.h"

#include <climits>
#include <memory>

#include <fmt/format.h>
#include <zlib.h>
// ZSTD_d_stableOutBuffer sits behind the experimental section (supported by libzstd >= 1.4.4).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

namespace qcow2 {
namespace {

Status zlib_decompress(std::span<const uint8_t> in, std::span<uint8_t> out) {
  // zlib counts in 32 bits; a cluster is at most 2 MiB and its descriptor range a little more,
  // so a larger span is a caller bug or a hostile descriptor.
  if (in.size() > UINT_MAX || out.size() > UINT_MAX) {
    return Status::Limit(fmt::format("zlib: {} compressed bytes into {} is too large", in.size(),
                                     out.size()));
  }
  z_stream strm{};
  strm.next_in = const_cast<Bytef*>(in.data());
  strm.avail_in = static_cast<uInt>(in.size());
  strm.next_out = out.data();
  strm.avail_out = static_cast<uInt>(out.size());
  // Raw deflate (negative windowBits). QEMU writes with a 4 KiB window (-12); decoding with the
  // largest window also accepts streams from writers that used a bigger one.
  int ret = inflateInit2(&strm, -15);
  if (ret != Z_OK) return Status::IOError(fmt::format("zlib: inflateInit2 failed ({})", ret));
  ret = inflate(&strm, Z_FINISH);
  const uint64_t produced = out.size() - strm.avail_out;
  const char* msg = strm.msg;
  std::string reason = msg ? msg : "";
  inflateEnd(&strm);

  // Like QEMU: a full output buffer is success even when the stream has not signalled its end,
  // because the descriptor only bounds the compressed size to the sector.
  if ((ret == Z_STREAM_END || ret == Z_BUF_ERROR) && produced == out.size()) return Status::Ok();
  switch (ret) {
    case Z_STREAM_END:
      return Status::Corruption(
          fmt::format("zlib: stream ended after {} of {} bytes", produced, out.size()));
    case Z_BUF_ERROR:
      return Status::Corruption(fmt::format(
          "zlib: compressed data ran out after {} of {} bytes (truncated stream)", produced,
          out.size()));
    case Z_MEM_ERROR:
      return Status::IOError("zlib: out of memory");
    default:
      return Status::Corruption(
          fmt::format("zlib: {}", reason.empty() ? fmt::format("error {}", ret) : reason));
  }
}

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

Status zstd_decompress(std::span<const uint8_t> in, std::span<uint8_t> out) {
  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return Status::IOError("zstd: cannot create a decompression context");
  // Decode straight into `out` and use it as the window: zstd then allocates no window buffer,
  // so a frame header claiming a huge window cannot make us allocate it. The window limit stays
  // at zstd's default, which is what QEMU accepts.
  size_t r = ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_stableOutBuffer, 1);
  if (ZSTD_isError(r)) {
    return Status::IOError(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
  }

  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  size_t ret = 1;  // "frame not finished"
  bool after_frame_end = false;
  // The bytes may hold several frames (QEMU loops over them too); stop as soon as the cluster is
  // full, because the descriptor's range can run into the next cluster's stream.
  while (output.pos < output.size) {
    const size_t in_before = input.pos;
    const size_t out_before = output.pos;
    ret = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(ret)) {
      if (after_frame_end) {
        // The frame before was complete; what follows is not another frame.
        return Status::Corruption(fmt::format("zstd: stream ended after {} of {} bytes ({})",
                                              output.pos, output.size, ZSTD_getErrorName(ret)));
      }
      return Status::Corruption(fmt::format("zstd: {} (after {} of {} bytes)",
                                            ZSTD_getErrorName(ret), output.pos, output.size));
    }
    after_frame_end = ret == 0;
    if (output.pos == output.size) break;
    if (input.pos == input.size && (ret == 0 || output.pos == out_before)) {
      if (ret == 0) {
        return Status::Corruption(fmt::format("zstd: stream ended after {} of {} bytes",
                                              output.pos, output.size));
      }
      return Status::Corruption(fmt::format(
          "zstd: compressed data ran out after {} of {} bytes (truncated stream)", output.pos,
          output.size));
    }
    // zstd's manual does not promise progress on every call; refuse to spin.
    if (input.pos == in_before && output.pos == out_before) {
      return Status::Corruption(
          fmt::format("zstd: decoder stalled after {} of {} bytes", output.pos, output.size));
    }
  }

  if (ret != 0) {
    // The cluster is full but the frame is not finished: let zstd read what it still needs
    // (a last empty block, a checksum). QEMU rejects a frame that holds more than a cluster.
    const size_t in_before = input.pos;
    ret = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(ret)) {
      if (ZSTD_getErrorCode(ret) == ZSTD_error_dstSize_tooSmall) {
        return Status::Corruption(
            fmt::format("zstd: frame holds more than {} bytes", output.size));
      }
      return Status::Corruption(fmt::format("zstd: {} (after {} of {} bytes)",
                                            ZSTD_getErrorName(ret), output.pos, output.size));
    }
    if (ret != 0 && input.pos == in_before && input.pos < input.size) {
      return Status::Corruption(
          fmt::format("zstd: frame does not end after {} bytes", output.size));
    }
    // ret != 0 with all input consumed: the frame's tail (checksum) was cut off by the
    // descriptor's range; the cluster's data is complete, so accept it.
  }
  return Status::Ok();
}

Status zlib_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (in.size() > UINT_MAX) return Status::Limit("zlib: input too large");
  z_stream strm{};
  // QEMU's parameters (qcow2_zlib_compress): default level, 4 KiB window, memLevel 9.
  int ret = deflateInit2(&strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY);
  if (ret != Z_OK) return Status::IOError(fmt::format("zlib: deflateInit2 failed ({})", ret));
  out.resize(deflateBound(&strm, static_cast<uLong>(in.size())));
  strm.next_in = const_cast<Bytef*>(in.data());
  strm.avail_in = static_cast<uInt>(in.size());
  strm.next_out = out.data();
  strm.avail_out = static_cast<uInt>(out.size());
  ret = deflate(&strm, Z_FINISH);
  const size_t produced = out.size() - strm.avail_out;
  deflateEnd(&strm);
  if (ret != Z_STREAM_END) {
    out.clear();
    return Status::IOError(fmt::format("zlib: deflate failed ({})", ret));
  }
  out.resize(produced);
  return Status::Ok();
}

Status zstd_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
  if (!cctx) return Status::IOError("zstd: cannot create a compression context");
  out.resize(ZSTD_compressBound(in.size()));
  // QEMU uses ZSTD_compressStream2(..., ZSTD_e_end) at the default level in one call, which
  // produces the same single frame (with its content size) as ZSTD_compress2.
  size_t r = ZSTD_compress2(cctx.get(), out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(r)) {
    out.clear();
    return Status::IOError(fmt::format("zstd: {}", ZSTD_getErrorName(r)));
  }
  out.resize(r);
  return Status::Ok();
}

}  // namespace

Status decompress_cluster(CompressionType type, std::span<const uint8_t> in,
                          std::span<uint8_t> out) {
  switch (type) {
    case CompressionType::kZlib:
      return zlib_decompress(in, out);
    case CompressionType::kZstd:
      return zstd_decompress(in, out);
  }
  return Status::NotSupported(
      fmt::format("compression type {}", static_cast<unsigned>(type)));
}

Status compress_cluster(CompressionType type, std::span<const uint8_t> in,
                        std::vector<uint8_t>& out) {
  switch (type) {
    case CompressionType::kZlib:
      return zlib_compress(in, out);
    case CompressionType::kZstd:
      return zstd_compress(in, out);
  }
  return Status::NotSupported(
      fmt::format("compression type {}", static_cast<unsigned>(type)));
}

}  // namespace qcow2
