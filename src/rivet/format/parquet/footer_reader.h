// The footer reader behind --validate: proves a finished file is a well-formed Parquet file and
// tells how many rows it holds, without reading any page.
//
// Checks, in order (every failure is ErrorCode::kCorrupt with a message saying which):
//   1. The file holds at least "PAR1" + 4-byte length + "PAR1" and starts and ends with "PAR1"
//      ("PARE", an encrypted footer, is reported as unsupported).
//   2. The footer length is non-zero and the footer lies between the leading magic and the
//      length field.
//   3. FileMetaData decodes with the bounds-checked Thrift compact decoder (unknown fields are
//      skipped; required fields must be present).
//   4. The schema is a well-formed tree (num_children never runs past the list) with at least
//      one leaf column.
//   5. Every row group has one column chunk per leaf, each with metadata, and every chunk's
//      first page and extent (dictionary_page_offset or data_page_offset, plus
//      total_compressed_size) lie inside the data region [4, footer start).
//   6. Row counts are non-negative and the row groups' counts sum to FileMetaData.num_rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rivet/common/byte_source.h"
#include "rivet/common/result.h"
#include "rivet/format/parquet/metadata.h"

namespace rivet::format::parquet {

// Validates a complete file image held in memory; returns its metadata.
Result<FileMetaData> ReadFileMetaData(const uint8_t* data, size_t size);
// Same, reading only the head, the tail and the footer of `file` (three ranged reads).
Result<FileMetaData> ReadFileMetaData(ByteSource& file);
Result<FileMetaData> ReadFileMetaDataFromFile(const std::string& path);

// ReadFileMetaData(...).num_rows: the entry point of the fuzz target.
Result<uint64_t> CountParquetRowsInMemory(const uint8_t* data, size_t size);

}  // namespace rivet::format::parquet
