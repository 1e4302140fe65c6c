// Logical types shared by every source and writer, and how each is stored in a Column.
//
// Storage by type (what Column::values<T>() holds):
//   kBool                                   uint8_t  (0 or 1)
//   kInt8 kInt16 kInt32 kUInt8 kUInt16       int32_t
//   kDate                                   int32_t  days since 1970-01-01
//   kInt64 kUInt32                          int64_t
//   kUInt64                                 int64_t  holding the uint64 bit pattern
//   kTime                                   int64_t  microseconds since midnight (0..86400000000)
//   kTimestamp kTimestampTz                 int64_t  microseconds since 1970-01-01T00:00:00 (UTC
//                                                    for kTimestampTz, wall clock for kTimestamp)
//   kFloat32 / kFloat64                     float / double
//   kDecimal, precision <= 18               int64_t  unscaled value
//   kDecimal, precision 19..38              Int128   unscaled value
//   kString kJson kBinary                   offsets + data (UTF-8 for kString and kJson)
//   kUuid                                   data, 16 bytes per row (big-endian, RFC 4122 order)
//   kList                                   offsets into child()
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rivet::columnar {

using Int128 = __int128;

enum class TypeId : uint8_t {
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat32,
  kFloat64,
  kDecimal,
  kString,
  kBinary,
  kJson,
  kDate,
  kTime,
  kTimestamp,    // wall clock, no time zone (isAdjustedToUTC=false)
  kTimestampTz,  // an instant, UTC (isAdjustedToUTC=true)
  kUuid,
  kList,
};

enum class Storage : uint8_t { kU8, kI32, kI64, kF32, kF64, kI128, kBytes, kFixed16, kList };

// Largest decimal precision stored natively; wider decimals travel as exact text (kString).
inline constexpr int kMaxDecimalPrecision = 38;
// Largest decimal precision whose unscaled value fits int64_t.
inline constexpr int kMaxDecimal64Precision = 18;

struct DataType {
  TypeId id = TypeId::kString;
  int32_t precision = 0;                    // kDecimal: 1..38
  int32_t scale = 0;                        // kDecimal: 0..precision
  std::shared_ptr<const DataType> element;  // kList: element type (never itself a list)

  static DataType Of(TypeId id) { return DataType{id, 0, 0, nullptr}; }
  static DataType Decimal(int32_t precision, int32_t scale) {
    return DataType{TypeId::kDecimal, precision, scale, nullptr};
  }
  static DataType List(DataType element_type) {
    return DataType{TypeId::kList, 0, 0, std::make_shared<const DataType>(std::move(element_type))};
  }

  Storage storage() const;
  // "int32", "decimal(12,2)", "list<text>", ...: stable names stored in the schema history.
  std::string ToString() const;
  bool operator==(const DataType& other) const;
};

struct Field {
  std::string name;
  DataType type;
};

using Schema = std::vector<Field>;
using SchemaPtr = std::shared_ptr<const Schema>;

// Bytes per value used to size batches from batch_size_memory_mb (reference §1 table).
int64_t EstimatedValueBytes(const DataType& type);
// Sum over columns plus one byte per column.
int64_t EstimatedRowBytes(const Schema& schema);

}  // namespace rivet::columnar
