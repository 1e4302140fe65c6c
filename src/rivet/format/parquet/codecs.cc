#include "rivet/format/parquet/codecs.h"

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace rivet::format::parquet {

namespace {

// zlib's largest compression level; the configuration accepts 10 and means "best".
constexpr int kMaxGzipLevel = 9;
// deflateInit2 window bits: 15 = 32 KiB window, +16 = gzip header and trailer (RFC 1952), which
// is what GZIP means in Parquet (Compression.md).
constexpr int kGzipWindowBits = 15 + 16;
// inflateInit2: +32 accepts both zlib and gzip wrappers.
constexpr int kInflateAutoWindowBits = 15 + 32;
constexpr int kZlibMemLevel = 8;

class NoneCompressor final : public Compressor {
 public:
  Status Compress(const uint8_t* data, size_t size, std::vector<uint8_t>& out) override {
    out.assign(data, data + size);
    return Status::Ok();
  }
  CompressionCodec codec() const override { return CompressionCodec::kUncompressed; }
};

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};

class ZstdCompressor final : public Compressor {
 public:
  ZstdCompressor(std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx, int level)
      : ctx_(std::move(ctx)), level_(level) {}
  Status Compress(const uint8_t* data, size_t size, std::vector<uint8_t>& out) override {
    out.resize(ZSTD_compressBound(size));
    size_t n = ZSTD_compressCCtx(ctx_.get(), out.data(), out.size(), data, size, level_);
    if (ZSTD_isError(n)) {
      return Error(ErrorCode::kInternal, "zstd compression failed: {}", ZSTD_getErrorName(n));
    }
    out.resize(n);
    return Status::Ok();
  }
  CompressionCodec codec() const override { return CompressionCodec::kZstd; }

 private:
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx_;
  int level_;
};

class SnappyCompressor final : public Compressor {
 public:
  Status Compress(const uint8_t* data, size_t size, std::vector<uint8_t>& out) override {
    out.resize(snappy::MaxCompressedLength(size));
    size_t n = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(data), size,
                        reinterpret_cast<char*>(out.data()), &n);
    out.resize(n);
    return Status::Ok();
  }
  CompressionCodec codec() const override { return CompressionCodec::kSnappy; }
};

class GzipCompressor final : public Compressor {
 public:
  explicit GzipCompressor(int level) : level_(level) {}
  Status Compress(const uint8_t* data, size_t size, std::vector<uint8_t>& out) override {
    z_stream stream{};
    if (deflateInit2(&stream, level_, Z_DEFLATED, kGzipWindowBits, kZlibMemLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      return Error(ErrorCode::kInternal, "gzip: deflateInit2 failed");
    }
    // Ends the stream whatever happens below (RAII for the zlib state).
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, deflateEnd);
    out.resize(deflateBound(&stream, static_cast<uLong>(size)));
    stream.next_in = const_cast<Bytef*>(data);
    stream.avail_in = static_cast<uInt>(size);
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
      return Error(ErrorCode::kInternal, "gzip: deflate did not finish");
    }
    out.resize(stream.total_out);
    return Status::Ok();
  }
  CompressionCodec codec() const override { return CompressionCodec::kGzip; }

 private:
  int level_;
};

class Lz4RawCompressor final : public Compressor {
 public:
  Status Compress(const uint8_t* data, size_t size, std::vector<uint8_t>& out) override {
    out.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(size))));
    int n = LZ4_compress_default(reinterpret_cast<const char*>(data),
                                 reinterpret_cast<char*>(out.data()), static_cast<int>(size),
                                 static_cast<int>(out.size()));
    if (n <= 0 && size > 0) return Error(ErrorCode::kInternal, "lz4 compression failed");
    out.resize(static_cast<size_t>(n));
    return Status::Ok();
  }
  CompressionCodec codec() const override { return CompressionCodec::kLz4Raw; }
};

}  // namespace

Result<std::unique_ptr<Compressor>> MakeCompressor(config::Compression compression,
                                                   std::optional<int> level) {
  switch (compression) {
    case config::Compression::kNone:
      return std::unique_ptr<Compressor>(new NoneCompressor());
    case config::Compression::kSnappy:
      return std::unique_ptr<Compressor>(new SnappyCompressor());
    case config::Compression::kLz4:
      return std::unique_ptr<Compressor>(new Lz4RawCompressor());
    case config::Compression::kGzip: {
      int gzip_level = level ? std::clamp(*level, 0, kMaxGzipLevel) : kDefaultGzipLevel;
      return std::unique_ptr<Compressor>(new GzipCompressor(gzip_level));
    }
    case config::Compression::kZstd: {
      std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx(ZSTD_createCCtx());
      if (!ctx) return Error(ErrorCode::kInternal, "zstd: cannot create a compression context");
      int zstd_level =
          level ? std::clamp(*level, ZSTD_minCLevel(), ZSTD_maxCLevel()) : kDefaultZstdLevel;
      return std::unique_ptr<Compressor>(new ZstdCompressor(std::move(ctx), zstd_level));
    }
  }
  return Error(ErrorCode::kInternal, "unknown compression");
}

Status Decompress(CompressionCodec codec, const uint8_t* data, size_t size,
                  size_t uncompressed_size, std::vector<uint8_t>& out) {
  out.resize(uncompressed_size);
  switch (codec) {
    case CompressionCodec::kUncompressed:
      if (size != uncompressed_size) break;
      if (size > 0) std::memcpy(out.data(), data, size);
      return Status::Ok();
    case CompressionCodec::kZstd: {
      size_t n = ZSTD_decompress(out.data(), out.size(), data, size);
      if (ZSTD_isError(n) || n != uncompressed_size) break;
      return Status::Ok();
    }
    case CompressionCodec::kSnappy: {
      size_t n = 0;
      const char* in = reinterpret_cast<const char*>(data);
      if (!snappy::GetUncompressedLength(in, size, &n) || n != uncompressed_size) break;
      if (!snappy::RawUncompress(in, size, reinterpret_cast<char*>(out.data()))) break;
      return Status::Ok();
    }
    case CompressionCodec::kLz4Raw: {
      if (size > INT_MAX || uncompressed_size > INT_MAX) break;
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(data),
                                  reinterpret_cast<char*>(out.data()), static_cast<int>(size),
                                  static_cast<int>(uncompressed_size));
      if (n < 0 || static_cast<size_t>(n) != uncompressed_size) break;
      return Status::Ok();
    }
    case CompressionCodec::kGzip: {
      z_stream stream{};
      if (inflateInit2(&stream, kInflateAutoWindowBits) != Z_OK) break;
      std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
      stream.next_in = const_cast<Bytef*>(data);
      stream.avail_in = static_cast<uInt>(size);
      stream.next_out = out.data();
      stream.avail_out = static_cast<uInt>(out.size());
      if (inflate(&stream, Z_FINISH) != Z_STREAM_END || stream.total_out != uncompressed_size) {
        break;
      }
      return Status::Ok();
    }
    default:
      return Error(ErrorCode::kNotSupported, "parquet: compression codec {} is not supported",
                   static_cast<int>(codec));
  }
  return Error(ErrorCode::kCorrupt, "parquet: page does not decompress to {} bytes ({})",
               uncompressed_size, static_cast<int>(codec));
}

}  // namespace rivet::format::parquet
