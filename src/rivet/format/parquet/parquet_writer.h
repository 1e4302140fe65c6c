// Parquet file writer and footer reader (format/parquet).
#pragma once

#include <memory>
#include <string>

#include "rivet/format/writer.h"

namespace rivet::format::parquet {

Result<std::unique_ptr<FormatWriter>> MakeParquetWriter(const WriterOptions& options,
                                                        columnar::SchemaPtr schema,
                                                        ByteSink& sink);

// Parses the footer of the file at `path`, checks magic and offsets, returns the row count.
Result<uint64_t> CountParquetRows(const std::string& path);

}  // namespace rivet::format::parquet
