// The format writer interface: turns batches into the bytes of one file.
//
// A writer is built for one file and one schema, receives batches in order through Write, and
// ends with Finish (footer, flush). It knows nothing about where the bytes go: it writes into a
// ByteSink. Dispatch is once per batch (virtual Write), then per column on the storage type.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/common/byte_sink.h"
#include "rivet/common/byte_source.h"
#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::format {

struct WriterOptions {
  config::Format format = config::Format::kParquet;
  config::Compression compression = config::Compression::kZstd;
  std::optional<int> compression_level;  // unset = codec default (zstd 3, gzip 6); gzip 0 is valid
  // Key-value metadata stored in the file footer (Parquet): export name, run_id, version.
  std::vector<std::pair<std::string, std::string>> metadata;
  // Parquet FileMetaData.created_by, the full text: "rivet version <X>". Empty: "rivet".
  std::string created_by;
};

class FormatWriter {
 public:
  virtual ~FormatWriter() = default;
  virtual Status Write(const columnar::Batch& batch) = 0;
  // Writes what is buffered and the footer. No Write after Finish.
  virtual Status Finish() = 0;
  // Bytes the file will have so far: written plus buffered (encoded) bytes; drives max_file_size.
  virtual uint64_t EstimatedFileSize() const = 0;
};

Result<std::unique_ptr<FormatWriter>> MakeWriter(const WriterOptions& options,
                                                 columnar::SchemaPtr schema, ByteSink& sink);

// Reads a finished file back and counts its rows (--validate): Parquet checks magic, footer,
// offsets and every row group's count; CSV counts RFC 4180 records after the header.
Result<uint64_t> CountRows(config::Format format, ByteSource& file);
Result<uint64_t> CountRows(config::Format format, const std::string& path);

// "parquet" | "csv"
std::string_view FileExtension(config::Format format);

}  // namespace rivet::format
