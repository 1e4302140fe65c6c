// Page compression (Parquet Compression.md). One Compressor per column writer, called once per
// page (never per value); every C handle it owns is released by RAII.
//
//   config       Parquet codec (thrift CompressionCodec)   level
//   zstd         ZSTD = 6      (zstd frame)                 1..22, default 3
//   snappy       SNAPPY = 1    (raw snappy block)           none
//   gzip         GZIP = 2      (deflate in a gzip wrapper)  0..9, default 6 (10 means 9)
//   lz4          LZ4_RAW = 7   (lz4 block, no frame)        none; the deprecated LZ4 = 5 is
//                                                           never written (its framing is
//                                                           ambiguous across readers)
//   none         UNCOMPRESSED = 0                           none
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::format::parquet {

// Values of parquet.thrift `enum CompressionCodec`.
enum class CompressionCodec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

inline constexpr int kDefaultZstdLevel = 3;
inline constexpr int kDefaultGzipLevel = 6;

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Replaces `out` with the compressed form of data[0..size).
  virtual Status Compress(const uint8_t* data, size_t size, std::vector<uint8_t>& out) = 0;
  virtual CompressionCodec codec() const = 0;
};

// An unset level is the codec's default.
Result<std::unique_ptr<Compressor>> MakeCompressor(config::Compression compression,
                                                   std::optional<int> level);

// Replaces `out` with the decompressed data, which must be exactly `uncompressed_size` bytes
// (readers, tests). kCorrupt on malformed input.
Status Decompress(CompressionCodec codec, const uint8_t* data, size_t size,
                  size_t uncompressed_size, std::vector<uint8_t>& out);

}  // namespace rivet::format::parquet
