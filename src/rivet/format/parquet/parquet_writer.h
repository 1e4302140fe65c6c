// Parquet output (format/parquet): Rivet's own writer, built from the Parquet specification
// (parquet-format: parquet.thrift, Encodings.md, LogicalTypes.md, Compression.md).
//
// Module map:
//   thrift_compact  Thrift compact protocol encoder and bounds-checked decoder
//   metadata        the parquet.thrift structures Rivet uses, serialized and parsed
//   schema          columnar types -> physical/logical types, three-level lists, levels
//   rle             RLE / bit-packing hybrid, boolean bit-packing
//   dictionary      dictionary building and the fallback rule
//   statistics      min/max in each logical type's order, null and NaN counts
//   codecs          zstd, snappy, gzip, lz4 (LZ4_RAW), none
//   column_writer   pages of one column chunk
//   file_writer     row groups and footer (the write protocol, step by step)
//   footer_reader   --validate: magic, footer, offsets and row counts
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "rivet/format/parquet/file_writer.h"
#include "rivet/format/writer.h"

namespace rivet::format::parquet {

// A writer with the default row-group, page and dictionary limits (file_writer.h).
Result<std::unique_ptr<FormatWriter>> MakeParquetWriter(const WriterOptions& options,
                                                        columnar::SchemaPtr schema, ByteSink& sink);

// Parses the footer of `file`, checks magic and offsets, returns the row count.
Result<uint64_t> CountParquetRows(ByteSource& file);
Result<uint64_t> CountParquetRows(const std::string& path);

// The same checks on a file image in memory (fuzzing, tests).
Result<uint64_t> CountParquetRowsInMemory(const uint8_t* data, size_t size);

}  // namespace rivet::format::parquet
