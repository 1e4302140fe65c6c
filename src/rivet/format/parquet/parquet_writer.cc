#include "rivet/format/parquet/parquet_writer.h"

#include "rivet/format/parquet/footer_reader.h"

namespace rivet::format::parquet {

Result<std::unique_ptr<FormatWriter>> MakeParquetWriter(const WriterOptions& options,
                                                        columnar::SchemaPtr schema,
                                                        ByteSink& sink) {
  return MakeParquetFileWriter(ParquetOptionsFrom(options), std::move(schema), sink);
}

Result<uint64_t> CountParquetRows(ByteSource& file) {
  RIVET_ASSIGN_OR_RETURN(FileMetaData metadata, ReadFileMetaData(file));
  return static_cast<uint64_t>(metadata.num_rows);
}

Result<uint64_t> CountParquetRows(const std::string& path) {
  RIVET_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::Open(path));
  return CountParquetRows(*file);
}

}  // namespace rivet::format::parquet
