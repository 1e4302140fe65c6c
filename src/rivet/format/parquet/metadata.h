// The Parquet metadata structures Rivet writes and reads back, as plain structs, with their
// Thrift compact serialization (parquet.thrift field ids in the comments) and a bounds-checked
// parser for the footer.
//
// Only the fields Rivet uses are modelled. The parser skips every other field generically, so
// files from other writers (and future format versions) still validate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/format/parquet/codecs.h"

namespace rivet::format::parquet {

// parquet.thrift `enum Type`.
enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

// parquet.thrift `enum ConvertedType` (the legacy annotation, still written for old readers).
enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kList = 3,
  kDecimal = 5,
  kDate = 6,
  kTimeMicros = 8,
  kTimestampMicros = 10,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kInt8 = 15,
  kInt16 = 16,
  kInt32 = 17,
  kInt64 = 18,
  kJson = 19,
};

// parquet.thrift `enum FieldRepetitionType`.
enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

// parquet.thrift `enum Encoding`.
enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kRleDictionary = 8,
};

// parquet.thrift `enum PageType`.
enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

// parquet.thrift `union LogicalType`, restricted to the annotations Rivet writes. Time units are
// always MICROS.
struct LogicalType {
  enum class Kind : uint8_t {
    kNone,
    kString,     // 1: StringType
    kList,       // 3: ListType
    kDecimal,    // 5: DecimalType {1: scale, 2: precision}
    kDate,       // 6: DateType
    kTime,       // 7: TimeType {1: isAdjustedToUTC, 2: unit}
    kTimestamp,  // 8: TimestampType {1: isAdjustedToUTC, 2: unit}
    kInteger,    // 10: IntType {1: bitWidth, 2: isSigned}
    kJson,       // 12: JsonType
    kUuid,       // 14: UUIDType
    kOther,      // any other member (read side only)
  };
  Kind kind = Kind::kNone;
  int32_t scale = 0;
  int32_t precision = 0;
  bool adjusted_to_utc = false;
  int8_t bit_width = 0;
  bool is_signed = true;

  bool operator==(const LogicalType&) const = default;
};

// parquet.thrift `struct SchemaElement`.
struct SchemaElement {
  std::optional<PhysicalType> type;        // 1
  std::optional<int32_t> type_length;      // 2
  std::optional<Repetition> repetition;    // 3
  std::string name;                        // 4
  std::optional<int32_t> num_children;     // 5
  std::optional<ConvertedType> converted;  // 6
  std::optional<int32_t> scale;            // 7
  std::optional<int32_t> precision;        // 8
  LogicalType logical;                     // 10 (absent when kNone)
};

// parquet.thrift `struct Statistics`: values are PLAIN-encoded without a length prefix.
struct Statistics {
  std::optional<std::string> max_value;  // 5
  std::optional<std::string> min_value;  // 6
  std::optional<int64_t> null_count;     // 3
  std::optional<int64_t> nan_count;      // 9 (floating point columns)
  // 7 is_max_value_exact and 8 is_min_value_exact are written true with the values: Rivet never
  // truncates statistics.
};

// parquet.thrift `struct ColumnMetaData`.
struct ColumnMetaData {
  PhysicalType type = PhysicalType::kInt32;                  // 1
  std::vector<Encoding> encodings;                           // 2
  std::vector<std::string> path_in_schema;                   // 3
  CompressionCodec codec = CompressionCodec::kUncompressed;  // 4
  int64_t num_values = 0;                                    // 5
  int64_t total_uncompressed_size = 0;                       // 6 (page headers included)
  int64_t total_compressed_size = 0;                         // 7 (page headers included)
  int64_t data_page_offset = 0;                              // 9
  std::optional<int64_t> index_page_offset;                  // 10 (read side only)
  std::optional<int64_t> dictionary_page_offset;             // 11
  std::optional<Statistics> statistics;                      // 12
};

// parquet.thrift `struct ColumnChunk`.
struct ColumnChunk {
  int64_t file_offset = 0;                  // 2: where the chunk starts
  std::optional<ColumnMetaData> meta_data;  // 3
};

// parquet.thrift `struct RowGroup`.
struct RowGroup {
  std::vector<ColumnChunk> columns;              // 1
  int64_t total_byte_size = 0;                   // 2: uncompressed bytes of all chunks
  int64_t num_rows = 0;                          // 3
  std::optional<int64_t> file_offset;            // 5
  std::optional<int64_t> total_compressed_size;  // 6
  std::optional<int16_t> ordinal;                // 7
};

// parquet.thrift `struct FileMetaData`.
struct FileMetaData {
  int32_t version = 1;                // 1
  std::vector<SchemaElement> schema;  // 2: depth-first, root first
  int64_t num_rows = 0;               // 3
  std::vector<RowGroup> row_groups;   // 4
  std::vector<std::pair<std::string, std::string>> key_value_metadata;  // 5
  std::optional<std::string> created_by;                                // 6
  // 7: one ColumnOrder per leaf column; Rivet writes TYPE_ORDER (TypeDefinedOrder) for all.
  // Read side: how many column orders were present and whether all were TYPE_ORDER.
  size_t column_order_count = 0;
  bool all_type_defined_order = true;
};

// parquet.thrift `struct DataPageHeader` / `DataPageHeaderV2` / `DictionaryPageHeader`, folded
// into one page header description.
struct PageHeader {
  PageType type = PageType::kDataPage;   // 1
  int32_t uncompressed_page_size = 0;    // 2 (header excluded)
  int32_t compressed_page_size = 0;      // 3 (header excluded)
  int32_t num_values = 0;                // data page 1 / v2 1 / dictionary 1
  Encoding encoding = Encoding::kPlain;  // data page 2 / v2 4 / dictionary 2
  // Data page v2 only:
  int32_t num_nulls = 0;                      // 2
  int32_t num_rows = 0;                       // 3
  int32_t definition_levels_byte_length = 0;  // 5
  int32_t repetition_levels_byte_length = 0;  // 6
  bool is_compressed = true;                  // 7
};

// Appends the compact serialization.
void SerializeFileMetaData(const FileMetaData& metadata, std::vector<uint8_t>& out);
void SerializePageHeader(const PageHeader& header, std::vector<uint8_t>& out);

// Parses a FileMetaData from exactly the footer bytes. kCorrupt on malformed input or when a
// required field is missing.
Result<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size);
// Parses one page header at data[0..size); `header_size` receives its length in bytes.
Result<PageHeader> ParsePageHeader(const uint8_t* data, size_t size, size_t& header_size);

}  // namespace rivet::format::parquet
