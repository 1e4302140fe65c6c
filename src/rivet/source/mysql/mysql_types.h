// Result column metadata -> Rivet logical types (reference §5 MySQL).
//
// The mapping reads only what the server reports for the result column (MYSQL_FIELD type,
// flags, length, decimals, charset number, and MariaDB's extended "json" format), so it is the
// same for table columns and expressions, and is pure: tests build FieldMeta by hand.
//
//   tinyint(1) (length 1), bool       kBool (values other than 0/1 are a kData error)
//   bit(1)                            kBool
//   bit(2..63) / bit(64)              kInt64 / kUInt64 (bit(64) values above 2^63-1 stay exact)
//   tinyint / unsigned                kInt8 / kUInt8
//   smallint / unsigned               kInt16 / kUInt16
//   mediumint (signed or unsigned)    kInt32
//   int / int unsigned                kInt32 / kInt64
//   bigint / unsigned                 kInt64 / kUInt64 (bit pattern in int64 storage)
//   float / double                    kFloat32 / kFloat64
//   decimal(p,s), p <= 38             Decimal(p,s), exact unscaled integer
//   decimal(p,s), p > 38              kString, the server's exact text
//   char varchar text enum set        kString (utf8mb4 as received; 4-byte characters intact)
//   binary varbinary blob (charset 63), geometry (internal WKB)   kBinary, bytes intact
//   json                              kJson (see below)
//   date                              kDate; the zero date 0000-00-00 -> NULL (documented);
//                                     partial zero dates (2024-00-10) are a kData error
//   time                              kTime when 0 <= t < 24h, else a kData error naming the
//                                     column and value (TIME spans -838:59:59..838:59:59)
//   datetime(n)                       kTimestamp (wall clock, microseconds); zero -> NULL
//   timestamp(n)                      kTimestampTz (the session runs in +00:00); zero -> NULL
//   year                              kInt32
//   anything else                     kString, the server's text form
//
// JSON: MySQL 8 has a JSON type (245) and sends its normalised text. MariaDB (10.11 checked)
// has no JSON type: JSON is LONGTEXT with a JSON_VALID check, and values are the text as
// inserted. With extended metadata (MariaDB 10.5.2+, requested by Connector/C 3.3 by
// default) the server marks JSON columns, and the results of JSON functions (JSON_OBJECT,
// JSON_EXTRACT, ...), with the format name "json"; those become kJson. A plain LONGTEXT holding
// JSON, or an older server, gives kString with the same bytes.
#pragma once

#include <mysql.h>

#include <cstdint>
#include <string>

#include "rivet/columnar/types.h"

namespace rivet::source::mysql {

// What the server says about one result column.
struct FieldMeta {
  std::string name;
  enum_field_types type = MYSQL_TYPE_NULL;
  unsigned int flags = 0;
  unsigned long length = 0;  // display width; bits for BIT; bytes for strings
  unsigned int decimals = 0;
  unsigned int charsetnr = 0;
  bool json_format = false;  // MariaDB extended metadata format name "json"
};

inline constexpr unsigned int kBinaryCharset = 63;

// How values of a column are decoded (one switch per value, no virtual call).
enum class Decoder : uint8_t {
  kBool,    // tinyint(1) / bool: 0 or 1
  kBit,     // BIT(n): big-endian bytes
  kInt,     // any integer or YEAR, range-checked into [min, max] of the target type
  kUInt64,  // bigint unsigned
  kFloat32,
  kFloat64,
  kDecimal,  // exact unscaled into int64 / Int128 by precision
  kBytes,    // strings, binary, json, enum, set, wide decimals: bytes as received
  kDate,
  kTime,
  kDatetime,  // kTimestamp and kTimestampTz
};

struct ColumnPlan {
  std::string name;
  columnar::DataType type;
  columnar::Storage storage = columnar::Storage::kBytes;  // type.storage(), kept for the hot loop
  Decoder decoder = Decoder::kBytes;
  int64_t min = 0;  // kInt: inclusive bounds of the target type
  int64_t max = 0;
  enum_field_types field_type = MYSQL_TYPE_NULL;
  bool is_unsigned = false;
  // Bytes the binary protocol needs per value before growing (strings), 0 for fixed types.
  unsigned long initial_buffer = 0;
};

// Precision of a DECIMAL result column from its display length (digits + point + sign).
int32_t DecimalPrecision(const FieldMeta& field);

ColumnPlan PlanColumn(const FieldMeta& field);

}  // namespace rivet::source::mysql
