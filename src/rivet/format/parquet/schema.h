// From Rivet's columnar schema to the Parquet schema (LogicalTypes.md): one leaf column per
// field, every field OPTIONAL (nullable), lists in the standard three-level form.
//
//   columnar type      physical                  LogicalType                 ConvertedType
//   kBool              BOOLEAN                   -                           -
//   kInt8/16/32        INT32                     INTEGER(8/16/32, signed)    INT_8/16/32
//   kUInt8/16          INT32                     INTEGER(8/16, unsigned)     UINT_8/16
//   kUInt32            INT32 (bit pattern)       INTEGER(32, unsigned)       UINT_32
//   kInt64             INT64                     INTEGER(64, signed)         INT_64
//   kUInt64            INT64 (bit pattern)       INTEGER(64, unsigned)       UINT_64
//   kFloat32/64        FLOAT / DOUBLE            -                           -
//   kDecimal(p,s)      INT32 p<=9, INT64 p<=18,  DECIMAL(p,s)                DECIMAL + scale,
//                      FIXED_LEN_BYTE_ARRAY(n)                               precision
//                      p<=38 (n = fewest bytes
//                      holding 10^p-1 signed)
//   kString            BYTE_ARRAY                STRING                      UTF8
//   kJson              BYTE_ARRAY                JSON                        JSON
//   kBinary            BYTE_ARRAY                -                           -
//   kDate              INT32                     DATE                        DATE
//   kTime              INT64                     TIME(MICROS, utc=false)     TIME_MICROS
//   kTimestamp         INT64                     TIMESTAMP(MICROS, false)    TIMESTAMP_MICROS
//   kTimestampTz       INT64                     TIMESTAMP(MICROS, true)     TIMESTAMP_MICROS
//   kUuid              FIXED_LEN_BYTE_ARRAY(16)  UUID                        -
//   kList<T>           optional group <name> (LIST) {                       LIST
//                        repeated group list { optional T element; } }
//
// TIME_MICROS / TIMESTAMP_MICROS also annotate the local (utc=false) forms: LogicalTypes.md
// ("Deprecated time/timestamp ConvertedType") requires writers to do so for forward
// compatibility; readers that know LogicalType read isAdjustedToUTC from it.
//
// Levels: a flat column has max definition level 1 (0 = NULL) and no repetition. A list leaf has
// max definition level 3 (0 = NULL list, 1 = empty list, 2 = NULL element, 3 = value) and max
// repetition level 1 (0 = first entry of a row, 1 = next element of the same list).
#pragma once

#include <string>
#include <vector>

#include "rivet/columnar/types.h"
#include "rivet/common/result.h"
#include "rivet/format/parquet/metadata.h"

namespace rivet::format::parquet {

// How a leaf's values are read from a Column and laid out physically: one template
// instantiation of the column writer per kind.
enum class ValueKind : uint8_t {
  kBool,          // uint8_t storage -> BOOLEAN
  kInt32,         // int32_t storage -> INT32
  kInt32FromI64,  // int64_t storage -> INT32 (kUInt32 bit pattern, decimal p <= 9)
  kInt64,         // int64_t storage -> INT64
  kFloat,         // float -> FLOAT
  kDouble,        // double -> DOUBLE
  kByteArray,     // offsets + data -> BYTE_ARRAY
  kFixed16,       // 16 bytes per row -> FIXED_LEN_BYTE_ARRAY(16)
  kDecimal128,    // Int128 -> FIXED_LEN_BYTE_ARRAY(n), big-endian two's complement
};

// The order min/max statistics follow (parquet.thrift ColumnOrder, TYPE_ORDER).
enum class SortOrder : uint8_t {
  kSigned,    // signed integers, dates, times, timestamps, decimals
  kUnsigned,  // UINT annotations and BOOLEAN (false < true)
  kFloat,     // IEEE value order, NaN ignored (counted in nan_count)
  kBytes,     // unsigned byte-wise lexicographic: strings, JSON, binary, UUID
};

struct LeafColumn {
  std::string name;               // the top-level field name
  columnar::DataType value_type;  // the element type for lists, else the field type
  bool is_list = false;
  PhysicalType physical = PhysicalType::kInt32;
  int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY only
  ValueKind kind = ValueKind::kInt32;
  SortOrder order = SortOrder::kSigned;
  int16_t max_definition_level = 1;
  int16_t max_repetition_level = 0;
  std::vector<std::string> path;  // ColumnMetaData.path_in_schema
  // Lists get no min/max: LIST has no defined order and readers disagree on how element
  // statistics apply to a repeated column (null_count is still written).
  bool write_min_max = true;
};

// Fewest bytes of a big-endian two's complement integer that hold +-(10^precision - 1).
int32_t DecimalByteWidth(int32_t precision);

// kNotSupported for nested lists or an out-of-range decimal precision.
Result<std::vector<LeafColumn>> BuildLeafColumns(const columnar::Schema& schema);
// The flattened schema (root first, depth-first) matching BuildLeafColumns.
std::vector<SchemaElement> BuildSchemaElements(const columnar::Schema& schema,
                                               const std::vector<LeafColumn>& leaves);

}  // namespace rivet::format::parquet
