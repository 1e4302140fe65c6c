// The Parquet file writer (parquet-format README "File Format"):
//
//   "PAR1" | row group 0 | row group 1 | ... | FileMetaData | 4-byte LE length | "PAR1"
//
// where each row group is one column chunk per leaf column, in schema order, and each column
// chunk is [dictionary page] data page+.
//
// Write protocol, step by step:
//   1. MakeParquetFileWriter maps the columnar schema to Parquet leaves (schema.h), builds one
//      ColumnWriter per leaf and the shared Compressor, and writes the leading magic "PAR1".
//   2. Write(batch) checks the batch has the writer's schema, then hands it to every column
//      writer in slices (at most kSliceRows rows, sized to what the row group still has room
//      for in rows and, by the average row so far, in bytes). After each slice, the row group is
//      flushed (step 3) when it holds row_group_max_rows rows, its encoded, uncompressed size
//      reached row_group_max_bytes, or the bytes it holds in memory (compressed pages) reached
//      row_group_max_buffered_bytes.
//   3. Flushing a row group asks each column writer, in schema order, to write its chunk
//      (dictionary page, then data pages) at the current file offset, and records a RowGroup
//      (chunks with offsets, sizes, encodings and statistics; row count; byte totals) for the
//      footer. Only the RowGroup metadata stays in memory afterwards.
//   4. Finish() flushes the last row group if it holds rows, then writes FileMetaData
//      (version, flattened schema, total rows, row groups, key-value metadata, created_by, one
//      TYPE_ORDER ColumnOrder per leaf) in the Thrift compact protocol, its length as 4 bytes
//      little-endian, and the closing "PAR1". A file with no rows has no row groups but carries
//      the full schema.
// Memory stays flat: the writer holds the current row group's compressed pages (bounded by
// row_group_max_buffered_bytes, in blocks reused from row group to row group: page_store.h) plus
// one page in progress per column and the batch being written, never the file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rivet/columnar/types.h"
#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/format/writer.h"

namespace rivet::format::parquet {

struct ParquetWriterOptions {
  config::Compression compression = config::Compression::kZstd;
  // 0 = the codec's default (zstd 3, gzip 6); ignored by snappy, lz4 and none.
  std::optional<int> compression_level;
  // Threads that compress pages beside the writing thread; unset = CompressionThreads(), one
  // fewer than the CPUs the process may use, at most 3 (page_queue.h). The bytes written are
  // the same whatever the count; each thread takes kBytesPerCompressionThread off
  // row_group_max_buffered_bytes (up to half of it), so memory stays flat.
  std::optional<int> compression_threads;
  // A row group ends at whichever limit comes first. 1,048,576 rows.
  uint64_t row_group_max_rows = uint64_t{1} << 20;
  // Encoded bytes before compression (pages, headers and dictionaries). 128 MiB.
  uint64_t row_group_max_bytes = uint64_t{128} << 20;
  // Bytes the row group holds in memory until it is written: finished pages as compressed, the
  // pages in progress and the dictionaries as encoded. A column chunk must be contiguous in the
  // file, so a row group's pages wait in memory until its last row; this limit is what keeps the
  // writer's memory flat whatever the table size and compression ratio. 16 MiB: a row group of
  // a table like the benchmark's `events` (about 53 bytes a row after zstd) ends near 190,000
  // rows, and `rivet run` stays within 64 MB of RSS with the `fast` profile's 50,000-row
  // batches in flight. Larger values give larger row groups for more memory.
  uint64_t row_group_max_buffered_bytes = uint64_t{16} << 20;
  // A data page ends after the row that brings its estimated encoded size to this. 1 MiB.
  uint64_t page_max_bytes = uint64_t{1} << 20;
  // A data page also ends after this many rows. 1,048,576 rows (pages are sized by bytes).
  uint64_t page_max_rows = uint64_t{1} << 20;
  // A column chunk's dictionary stops growing past this PLAIN-encoded size and the rest of the
  // chunk is written PLAIN (dictionary.h). 1 MiB.
  uint64_t dictionary_max_bytes = uint64_t{1} << 20;
  // false: every page PLAIN.
  bool enable_dictionary = true;
  // true: DATA_PAGE_V2 pages (levels uncompressed, values compressed alone).
  bool data_page_v2 = false;
  // FileMetaData.created_by, e.g. "rivet version 0.1.0"; "rivet" when empty.
  std::string created_by;
  // FileMetaData.key_value_metadata, in order.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// A batch is cut into slices of at most kSliceRows rows, sized so the row-group byte limit is
// checked about when it is reached (file_writer.cc); the limits are checked after each slice.
inline constexpr size_t kSliceRows = 8192;

ParquetWriterOptions ParquetOptionsFrom(const WriterOptions& options);

Result<std::unique_ptr<FormatWriter>> MakeParquetFileWriter(const ParquetWriterOptions& options,
                                                            columnar::SchemaPtr schema,
                                                            ByteSink& sink);

}  // namespace rivet::format::parquet
