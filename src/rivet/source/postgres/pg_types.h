// From PostgreSQL result columns (type OID + typmod) to Rivet's types, per reference §5.
//
// Steps, for each column of the query's result (from PQdescribePrepared):
//   1. built-in types with a binary decoder map directly (bool, int2/4/8, oid, float4/8,
//      numeric, text-like, bytea, date, time, timestamp[tz], uuid, json, jsonb, their arrays);
//   2. other OIDs are looked up in pg_type (MissingTypeOids tells which): domains resolve to
//      their base type (with the domain's typmod), enums and citext travel as text, arrays
//      resolve through their element type;
//   3. anything else (interval, inet, money, ranges, composites, xml, timetz, bit, ...) is cast
//      to text in the query sent (arrays of such elements to text[]), so no value is ever
//      exported as NULL for lack of a decoder. The text is always the type's output function
//      (what psql shows): "x::text" is that for every such type except inet and cidr, whose
//      text() cast adds a "/32" netmask, and arrays go through their own text form
//      ("x::text::text[]") so every element is its output text too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rivet/columnar/types.h"
#include "rivet/common/result.h"
#include "rivet/source/postgres/copy_parser.h"

namespace rivet::source::postgres {

// Type OIDs (src/include/catalog/pg_type.dat); stable across PostgreSQL versions.
namespace oid {
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kName = 19;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestampTz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;
inline constexpr uint32_t kTextArray = 1009;
}  // namespace oid

// One row of pg_type, as much as the mapping needs.
struct PgTypeInfo {
  std::string name;      // typname
  char type = 'b';       // typtype: b base, d domain, e enum, c composite, r range, ...
  uint32_t element = 0;  // typelem
  uint32_t base = 0;     // typbasetype (domains)
  char category = 'U';   // typcategory: 'A' array, ...
  int32_t typmod = -1;   // typtypmod (domains)
};
using TypeCatalog = std::unordered_map<uint32_t, PgTypeInfo>;

struct ResultColumn {
  std::string name;
  uint32_t type_oid = 0;
  int32_t typmod = -1;
};

struct ColumnPlan {
  columnar::Field field;  // original column name and Rivet type
  ColumnDecoder decoder;
  // How the column is selected in the COPY: "" as is, else an expression over "{}" (the
  // column's positional alias) giving its text form (see TextCast).
  std::string cast;
};

// numeric typmod -> (precision, scale); nullopt without a declared precision.
// Scale follows PostgreSQL 15, where it may be negative or larger than the precision.
struct NumericTypmod {
  int32_t precision;
  int32_t scale;
};
std::optional<NumericTypmod> DecodeNumericTypmod(int32_t typmod);

// OIDs that must be read from pg_type before PlanColumns can decide (not built in and not in
// `catalog`). Call repeatedly, adding the rows found, until it returns nothing.
std::vector<uint32_t> MissingTypeOids(const std::vector<ResultColumn>& columns,
                                      const TypeCatalog& catalog);

// The plan for every column. An OID still unknown is cast to text.
std::vector<ColumnPlan> PlanColumns(const std::vector<ResultColumn>& columns,
                                    const TypeCatalog& catalog);

// `query` without trailing blanks and semicolons.
std::string_view StripQuery(std::string_view query);

// The COPY statement for `query`: "COPY (<query>) TO STDOUT (FORMAT binary)" when every column
// is sent as is; otherwise the query wrapped with positional aliases (duplicate column names
// stay valid) and the casts. The query sits on its own lines so a trailing "-- comment" in it
// cannot swallow the closing parenthesis.
std::string BuildCopyQuery(std::string_view query, const std::vector<ColumnPlan>& plans);

// "col" with inner quotes doubled.
std::string QuotePgIdentifier(std::string_view name);

// 'it''s': a string literal holding exactly `text`, for a session with
// standard_conforming_strings = on (backslashes are then ordinary characters; PostgreSQL docs,
// "String Constants"). kData when `text` holds a NUL byte, which no PostgreSQL text value can
// contain.
Result<std::string> QuotePgLiteral(std::string_view text);

}  // namespace rivet::source::postgres
