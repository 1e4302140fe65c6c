#include "rivet/plan/cursor.h"

#include <fmt/format.h>

#include <algorithm>

#include "rivet/columnar/temporal.h"

namespace rivet::plan {

namespace {

using columnar::Int128;
using columnar::TypeId;

// Exact text of unscaled * 10^-scale: "-0.05", "12.30", "7".
std::string DecimalText(Int128 unscaled, int scale) {
  const bool negative = unscaled < 0;
  auto magnitude = negative ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1
                            : static_cast<unsigned __int128>(unscaled);
  // Digits from the least significant, the point after `scale` of them, and at least one
  // digit before the point.
  std::string reversed;
  const auto s = static_cast<size_t>(std::max(scale, 0));
  do {
    if (s > 0 && reversed.size() == s) reversed.push_back('.');
    reversed.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0 || (s > 0 && reversed.size() < s + 2));
  if (negative) reversed.push_back('-');
  return std::string(reversed.rbegin(), reversed.rend());
}

std::string DateText(int64_t days) {
  const columnar::CivilDate c = columnar::CivilFromDays(days);
  return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string TimestampText(int64_t micros) {
  const int64_t days = columnar::FloorDiv(micros, columnar::kMicrosPerDay);
  const int64_t in_day = micros - days * columnar::kMicrosPerDay;
  const int64_t seconds = in_day / columnar::kMicrosPerSecond;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:06}", DateText(days), seconds / 3600,
                     seconds / 60 % 60, seconds % 60, in_day % columnar::kMicrosPerSecond);
}

}  // namespace

Result<CursorKind> CursorKindOf(std::string_view column_name, const columnar::DataType& type) {
  switch (type.id) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return CursorKind::kInteger;
    case TypeId::kDecimal:
      return CursorKind::kDecimal;
    case TypeId::kDate:
      return CursorKind::kDate;
    case TypeId::kTimestamp:
      return CursorKind::kTimestamp;
    case TypeId::kTimestampTz:
      return CursorKind::kTimestampTz;
    case TypeId::kString:
      return CursorKind::kText;
    default:
      return Error(ErrorCode::kConfig,
                   "cursor_column '{}' has type {}, which cannot be a cursor; use an integer, "
                   "numeric, date, timestamp or text column",
                   column_name, type.ToString());
  }
}

Result<std::optional<CursorValue>> LastCursorValue(std::string_view column_name,
                                                   const columnar::Column& column) {
  RIVET_ASSIGN_OR_RETURN(CursorKind kind, CursorKindOf(column_name, column.type()));
  size_t row = column.size();
  while (row > 0 && !column.IsValid(row - 1)) --row;
  if (row == 0) return std::optional<CursorValue>();
  --row;
  const columnar::DataType& type = column.type();
  std::string text;
  switch (type.id) {
    case TypeId::kUInt64:
      text = std::to_string(static_cast<uint64_t>(column.values<int64_t>()[row]));
      break;
    case TypeId::kDecimal:
      text = type.precision <= columnar::kMaxDecimal64Precision
                 ? DecimalText(column.values<int64_t>()[row], type.scale)
                 : DecimalText(column.values<Int128>()[row], type.scale);
      break;
    case TypeId::kDate:
      text = DateText(column.values<int32_t>()[row]);
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      text = TimestampText(column.values<int64_t>()[row]);
      break;
    case TypeId::kString:
      text = std::string(column.StringAt(row));
      break;
    default:
      text = type.storage() == columnar::Storage::kI32
                 ? std::to_string(column.values<int32_t>()[row])
                 : std::to_string(column.values<int64_t>()[row]);
  }
  return std::optional<CursorValue>(CursorValue{kind, std::move(text)});
}

namespace {

bool IsInteger(const columnar::DataType& type) {
  switch (type.id) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return true;
    default:
      return false;
  }
}

// The index of the column `name` (named by config key `key`), or an error listing the columns.
Result<size_t> FindColumn(const columnar::Schema& schema, std::string_view export_name,
                          std::string_view key, std::string_view name) {
  std::string names;
  for (size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].name == name) return i;
    names += (i == 0 ? "" : ", ") + schema[i].name;
  }
  return Error(ErrorCode::kConfig,
               "export '{}': {} '{}' is not a column of the query's result (columns: {}); the "
               "name must match exactly, case included",
               export_name, key, name, names);
}

}  // namespace

Result<std::optional<size_t>> CheckKeyColumns(const columnar::Schema& schema,
                                              std::string_view export_name,
                                              std::string_view cursor_column,
                                              std::string_view chunk_column) {
  std::optional<size_t> cursor_index;
  if (!cursor_column.empty()) {
    RIVET_ASSIGN_OR_RETURN(cursor_index,
                           FindColumn(schema, export_name, "cursor_column", cursor_column));
    RIVET_RETURN_IF_ERROR(CursorKindOf(cursor_column, schema[*cursor_index].type).status());
  }
  if (!chunk_column.empty()) {
    RIVET_ASSIGN_OR_RETURN(size_t chunk_index,
                           FindColumn(schema, export_name, "chunk_column", chunk_column));
    const columnar::DataType& type = schema[chunk_index].type;
    if (!IsInteger(type)) {
      return Error(ErrorCode::kConfig,
                   "export '{}': chunk_column '{}' has type {}; chunking needs an integer "
                   "column, e.g. an id or ROW_NUMBER() OVER (ORDER BY ...) in the query",
                   export_name, chunk_column, type.ToString());
    }
  }
  return cursor_index;
}

}  // namespace rivet::plan
