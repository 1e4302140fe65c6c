#include "rivet/format/parquet/file_writer.h"

#include <algorithm>
#include <limits>

#include "rivet/format/parquet/codecs.h"
#include "rivet/format/parquet/column_writer.h"
#include "rivet/format/parquet/metadata.h"
#include "rivet/format/parquet/schema.h"

namespace rivet::format::parquet {

namespace {

constexpr uint8_t kMagic[4] = {'P', 'A', 'R', '1'};
constexpr char kDefaultCreatedBy[] = "rivet";
// FileMetaData.version: 1 for files readable by every reader; 2 once DATA_PAGE_V2 is used.
constexpr int32_t kFormatVersion1 = 1;
constexpr int32_t kFormatVersion2 = 2;

class ParquetFileWriter final : public FormatWriter {
 public:
  ParquetFileWriter(ParquetWriterOptions options, columnar::SchemaPtr schema, ByteSink& sink,
                    std::vector<LeafColumn> leaves, std::unique_ptr<PageQueue> pages)
      : options_(std::move(options)),
        schema_(std::move(schema)),
        sink_(sink),
        base_(sink.bytes_written()),
        leaves_(std::move(leaves)),
        pages_(std::move(pages)) {}

  Status Init() {
    PageOptions page;
    page.page_max_bytes = std::max<uint64_t>(options_.page_max_bytes, 1);
    page.page_max_rows = std::max<uint64_t>(options_.page_max_rows, 1);
    page.dictionary_max_bytes = options_.dictionary_max_bytes;
    page.enable_dictionary = options_.enable_dictionary;
    page.data_page_v2 = options_.data_page_v2;
    columns_.reserve(leaves_.size());
    for (const LeafColumn& leaf : leaves_) {
      RIVET_ASSIGN_OR_RETURN(auto column, MakeColumnWriter(leaf, page, *pages_, pool_));
      columns_.push_back(std::move(column));
    }
    metadata_.version = options_.data_page_v2 ? kFormatVersion2 : kFormatVersion1;
    metadata_.schema = BuildSchemaElements(*schema_, leaves_);
    metadata_.key_value_metadata = options_.metadata;
    metadata_.created_by = options_.created_by.empty() ? kDefaultCreatedBy : options_.created_by;
    metadata_.column_order_count = leaves_.size();
    return sink_.Append(kMagic, sizeof kMagic);
  }

  Status Write(const columnar::Batch& batch) override {
    if (finished_) return Error(ErrorCode::kInternal, "parquet: write after finish");
    RIVET_RETURN_IF_ERROR(CheckSchema(batch));
    const size_t rows = batch.num_rows();
    const uint64_t max_rows = std::max<uint64_t>(options_.row_group_max_rows, 1);
    if (rows == 0) return Status::Ok();
    const uint64_t batch_row_bytes = std::max<uint64_t>(batch.ByteSize() / rows, 1);
    size_t row = 0;
    while (row < rows) {
      uint64_t room = max_rows - group_rows_;
      size_t take = static_cast<size_t>(
          std::min<uint64_t>({rows - row, room, SliceRowsForByteLimit(batch_row_bytes)}));
      for (size_t c = 0; c < columns_.size(); ++c) {
        RIVET_RETURN_IF_ERROR(columns_[c]->Write(batch.column(c), row, row + take));
      }
      row += take;
      group_rows_ += take;
      if (group_rows_ >= max_rows || GroupUncompressedBytes() >= options_.row_group_max_bytes ||
          GroupBufferedBytes() >= options_.row_group_max_buffered_bytes) {
        RIVET_RETURN_IF_ERROR(FlushRowGroup());
      }
    }
    return Status::Ok();
  }

  Status Finish() override {
    if (finished_) return Error(ErrorCode::kInternal, "parquet: finish called twice");
    finished_ = true;
    if (group_rows_ > 0) RIVET_RETURN_IF_ERROR(FlushRowGroup());
    std::vector<uint8_t> footer;
    SerializeFileMetaData(metadata_, footer);
    if (footer.size() > std::numeric_limits<uint32_t>::max()) {
      return Error(ErrorCode::kData, "parquet: footer of {} bytes is too large", footer.size());
    }
    auto length = static_cast<uint32_t>(footer.size());
    for (int i = 0; i < 4; ++i) footer.push_back(static_cast<uint8_t>(length >> (8 * i)));
    footer.insert(footer.end(), kMagic, kMagic + sizeof kMagic);
    return sink_.Append(footer.data(), footer.size());
  }

  uint64_t EstimatedFileSize() const override {
    uint64_t total = sink_.bytes_written() - base_;
    for (const auto& column : columns_) total += column->BufferedFileBytes();
    return total;
  }

 private:
  Status CheckSchema(const columnar::Batch& batch) const {
    if (batch.schema() == schema_) return Status::Ok();
    const columnar::Schema& got = *batch.schema();
    if (got.size() != schema_->size()) {
      return Error(ErrorCode::kInternal, "parquet: batch has {} columns, the file {}", got.size(),
                   schema_->size());
    }
    for (size_t i = 0; i < got.size(); ++i) {
      if (!(got[i].type == (*schema_)[i].type)) {
        return Error(ErrorCode::kInternal,
                     "parquet: column '{}' is {} in the batch, {} in the file", (*schema_)[i].name,
                     got[i].type.ToString(), (*schema_)[i].type.ToString());
      }
    }
    return Status::Ok();
  }

  // Rows to encode before the next byte-limit check: about as many as still fit by the average
  // encoded row of this row group (or, at its start, by the batch's own bytes per row), plus
  // one, so a row group overshoots row_group_max_bytes by little whatever the row width.
  uint64_t SliceRowsForByteLimit(uint64_t batch_row_bytes) const {
    uint64_t bytes = group_rows_ == 0 ? 0 : GroupUncompressedBytes();
    if (bytes >= options_.row_group_max_bytes) return 1;
    uint64_t per_row =
        group_rows_ == 0 ? batch_row_bytes : std::max<uint64_t>(bytes / group_rows_, 1);
    return std::min<uint64_t>(kSliceRows, (options_.row_group_max_bytes - bytes) / per_row + 1);
  }

  uint64_t GroupBufferedBytes() const {
    uint64_t total = 0;
    for (const auto& column : columns_) total += column->BufferedFileBytes();
    return total;
  }

  uint64_t GroupUncompressedBytes() const {
    uint64_t total = 0;
    for (const auto& column : columns_) total += column->BufferedUncompressedBytes();
    return total;
  }

  Status FlushRowGroup() {
    RowGroup group;
    group.num_rows = static_cast<int64_t>(group_rows_);
    group.columns.resize(columns_.size());
    int64_t start = Offset();
    group.file_offset = start;
    int64_t uncompressed = 0;
    for (size_t c = 0; c < columns_.size(); ++c) {
      RIVET_RETURN_IF_ERROR(columns_[c]->FlushChunk(sink_, Offset(), group.columns[c]));
      uncompressed += group.columns[c].meta_data->total_uncompressed_size;
    }
    group.total_byte_size = uncompressed;
    group.total_compressed_size = Offset() - start;
    group.ordinal = static_cast<int16_t>(
        std::min<size_t>(metadata_.row_groups.size(), std::numeric_limits<int16_t>::max()));
    metadata_.num_rows += group.num_rows;
    metadata_.row_groups.push_back(std::move(group));
    group_rows_ = 0;
    return Status::Ok();
  }

  int64_t Offset() const { return static_cast<int64_t>(sink_.bytes_written() - base_); }

  ParquetWriterOptions options_;
  columnar::SchemaPtr schema_;
  ByteSink& sink_;
  uint64_t base_;
  std::vector<LeafColumn> leaves_;
  std::unique_ptr<PageQueue> pages_;
  // Declared before columns_: the column writers hold references to these.
  BlockPool pool_;
  std::vector<std::unique_ptr<ColumnWriter>> columns_;
  FileMetaData metadata_;
  uint64_t group_rows_ = 0;
  bool finished_ = false;
};

}  // namespace

ParquetWriterOptions ParquetOptionsFrom(const WriterOptions& options) {
  ParquetWriterOptions out;
  out.compression = options.compression;
  out.compression_level = options.compression_level;
  out.created_by = options.created_by;
  out.metadata = options.metadata;
  return out;
}

Result<std::unique_ptr<FormatWriter>> MakeParquetFileWriter(const ParquetWriterOptions& options,
                                                            columnar::SchemaPtr schema,
                                                            ByteSink& sink) {
  if (!schema) return Error(ErrorCode::kInternal, "parquet: no schema");
  RIVET_ASSIGN_OR_RETURN(auto leaves, BuildLeafColumns(*schema));
  const int threads = options.compression_threads
                          ? *options.compression_threads
                          : CompressionThreads(options.compression, UsableCpus());
  RIVET_ASSIGN_OR_RETURN(auto pages,
                         PageQueue::Make(options.compression, options.compression_level, threads));
  // Each compression thread holds pages of its own: the row group holds that much less, so the
  // writer's memory stays what row_group_max_buffered_bytes promises.
  ParquetWriterOptions effective = options;
  effective.row_group_max_buffered_bytes -=
      std::min(options.row_group_max_buffered_bytes / 2,
               static_cast<uint64_t>(threads) * kBytesPerCompressionThread);
  auto writer = std::make_unique<ParquetFileWriter>(effective, std::move(schema), sink,
                                                    std::move(leaves), std::move(pages));
  RIVET_RETURN_IF_ERROR(writer->Init());
  return std::unique_ptr<FormatWriter>(std::move(writer));
}

}  // namespace rivet::format::parquet
