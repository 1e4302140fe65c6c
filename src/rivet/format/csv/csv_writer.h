// CSV writer (reference §5) and the RFC 4180 record counter used by --validate.
#pragma once

#include <memory>
#include <string>

#include "rivet/common/byte_source.h"
#include "rivet/format/writer.h"

namespace rivet::format::csv {

Result<std::unique_ptr<FormatWriter>> MakeCsvWriter(columnar::SchemaPtr schema, ByteSink& sink);

// Row `row` of `col` as its CSV field (for messages that quote a value, e.g. quality gates).
std::string FieldText(const columnar::Column& col, size_t row);

// Counts RFC 4180 records after the header (quoted newlines do not end a record).
Result<uint64_t> CountCsvRows(ByteSource& file);
Result<uint64_t> CountCsvRows(const std::string& path);

}  // namespace rivet::format::csv
