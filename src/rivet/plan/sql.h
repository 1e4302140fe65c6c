// Query builders for the export modes (reference §4), one per dialect difference.
//
// The user's query is never parsed: each mode wraps it as a derived table,
//   SELECT * FROM (
//   <query>
//   ) AS _rivet WHERE <predicate> [ORDER BY <cursor>]
// with the query on lines of its own, so a trailing "-- comment" cannot swallow the closing
// parenthesis. Identifiers are quoted and values become literals of the session (quoting
// depends on the live connection for MySQL, hence the functions in Dialect), never pasted raw.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/clock.h"
#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::plan {

enum class Engine { kPostgres, kMysql };

// How the session spells SQL; a Source provides the two quoting functions.
struct Dialect {
  Engine engine = Engine::kPostgres;
  std::function<std::string(std::string_view)> quote_identifier;
  std::function<Result<std::string>(std::string_view)> quote_literal;
};

// The kinds of cursor value, stored with the value so it is quoted back exactly.
enum class CursorKind { kInteger, kDecimal, kDate, kTimestamp, kTimestampTz, kText };
// "integer" | "decimal" | "date" | "timestamp" | "timestamptz" | "text".
std::string_view ToString(CursorKind kind);
// The kind of a stored name; an empty or unknown name (a cursor stored before the kind was
// recorded) reads as text, which every engine compares by converting to the column's type.
CursorKind CursorKindFromString(std::string_view name);

// A cursor value as stored: integers and decimals as exact decimal text, dates
// "YYYY-MM-DD", timestamps "YYYY-MM-DDTHH:MM:SS.ffffff" (UTC for kTimestampTz).
struct CursorValue {
  CursorKind kind = CursorKind::kText;
  std::string text;
  bool operator==(const CursorValue&) const = default;
};

// The literal that compares with the cursor column as the stored value: numbers bare (after
// checking they are numbers), everything else a quoted literal in the engine's input form
// ("2026-03-29 16:00:00.000000+00" for a PostgreSQL timestamptz, "2026-03-29 16:00:00.000000"
// for MySQL, whose session runs in UTC).
Result<std::string> CursorLiteral(const Dialect& d, const CursorValue& value);

// incremental: rows after `last` (all rows on the first run), in cursor order.
Result<std::string> IncrementalQuery(const Dialect& d, std::string_view query,
                                     std::string_view cursor_column,
                                     const std::optional<CursorValue>& last);

// time_window: rows at or after UTC midnight `days` days before `now`.
Result<std::string> TimeWindowQuery(const Dialect& d, std::string_view query,
                                    std::string_view time_column, config::TimeColumnType type,
                                    int64_t days, SystemTime now);

// chunked: MIN and MAX of the chunk column over the whole result.
std::string MinMaxQuery(const Dialect& d, std::string_view query, std::string_view column);
// chunked: one window [lo, hi] (inclusive), or the rows whose chunk column is NULL.
std::string ChunkQuery(const Dialect& d, std::string_view query, std::string_view column,
                       int64_t lo, int64_t hi);
std::string NullChunkQuery(const Dialect& d, std::string_view query, std::string_view column);

// preflight: the query's result columns without a row read (LIMIT 0 on both engines).
std::string DescribeQuery(std::string_view query);

// Microseconds since the epoch of UTC midnight `days` days before the UTC day of `now`.
int64_t UtcMidnightDaysAgo(SystemTime now, int64_t days);

// `query` without leading blanks and trailing blanks and semicolons.
std::string_view StripQuery(std::string_view query);

}  // namespace rivet::plan
