#include "rivet/format/writer.h"

#include "rivet/format/csv/csv_writer.h"
#include "rivet/format/parquet/parquet_writer.h"

namespace rivet::format {

Result<std::unique_ptr<FormatWriter>> MakeWriter(const WriterOptions& options,
                                                 columnar::SchemaPtr schema, ByteSink& sink) {
  switch (options.format) {
    case config::Format::kParquet:
      return parquet::MakeParquetWriter(options, std::move(schema), sink);
    case config::Format::kCsv:
      return csv::MakeCsvWriter(std::move(schema), sink);
  }
  return Error(ErrorCode::kInternal, "unknown format");
}

Result<uint64_t> CountRows(config::Format format, ByteSource& file) {
  switch (format) {
    case config::Format::kParquet:
      return parquet::CountParquetRows(file);
    case config::Format::kCsv:
      return csv::CountCsvRows(file);
  }
  return Error(ErrorCode::kInternal, "unknown format");
}

Result<uint64_t> CountRows(config::Format format, const std::string& path) {
  RIVET_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::Open(path));
  return CountRows(format, *file);
}

std::string_view FileExtension(config::Format format) {
  return format == config::Format::kParquet ? "parquet" : "csv";
}

}  // namespace rivet::format
