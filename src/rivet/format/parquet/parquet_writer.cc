#include "rivet/format/parquet/parquet_writer.h"

namespace rivet::format::parquet {

Result<std::unique_ptr<FormatWriter>> MakeParquetWriter(const WriterOptions&, columnar::SchemaPtr,
                                                        ByteSink&) {
  return Error(ErrorCode::kNotSupported, "format: parquet is not supported yet");
}

Result<uint64_t> CountParquetRows(const std::string&) {
  return Error(ErrorCode::kNotSupported, "format: parquet is not supported yet");
}

}  // namespace rivet::format::parquet
