// The incremental cursor read from the exported rows (reference §4: the new cursor is the last
// non-NULL cursor value exported). Rows arrive in cursor order (ORDER BY in the query), so the
// last non-NULL value of each batch is the largest so far by the server's own comparison
// (collation included), which is the comparison the next run's ">" uses.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "rivet/columnar/column.h"
#include "rivet/common/result.h"
#include "rivet/plan/sql.h"

namespace rivet::plan {

// The kind a cursor column of `type` is stored as; an error naming the column for types that
// cannot be a cursor (floats round, booleans, binary, uuid, time of day, lists, json).
Result<CursorKind> CursorKindOf(std::string_view column_name, const columnar::DataType& type);

// The last non-NULL value of `column` as stored text, nullopt when every row is NULL.
Result<std::optional<CursorValue>> LastCursorValue(std::string_view column_name,
                                                   const columnar::Column& column);

// Checks the key columns of a query's result before any row is written: `cursor_column`
// (when not empty) must be a column of a cursor type, `chunk_column` (when not empty) an
// integer column (MIN/MAX of a text column can parse as numbers while its windows compare as
// text). Returns the cursor column's index; errors name the export, the key and the columns.
Result<std::optional<size_t>> CheckKeyColumns(const columnar::Schema& schema,
                                              std::string_view export_name,
                                              std::string_view cursor_column,
                                              std::string_view chunk_column);

}  // namespace rivet::plan
