#include "rivet/plan/sql.h"

#include <fmt/format.h>

#include <chrono>

#include "rivet/columnar/temporal.h"

namespace rivet::plan {

namespace {

constexpr std::string_view kKindNames[] = {"integer",   "decimal",     "date",
                                           "timestamp", "timestamptz", "text"};

std::string Wrap(std::string_view query, std::string_view predicate) {
  return fmt::format("SELECT * FROM (\n{}\n) AS _rivet WHERE {}", StripQuery(query), predicate);
}

// "-12", "0", "12.50": what the exporter itself stores for integers and decimals. Anything
// else (a hand-edited state DB) is refused rather than pasted into SQL.
bool IsDecimalNumber(std::string_view s, bool allow_point) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  bool digits = false;
  bool point = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && allow_point && !point && digits) {
      point = true;
    } else {
      return false;
    }
  }
  return digits && s.back() != '.';
}

// "2026-03-29T16:00:00.000000" -> "2026-03-29 16:00:00.000000": the form both engines parse
// for every column type (MySQL's older servers refuse the 'T').
std::string SpaceSeparated(std::string_view iso) {
  std::string out(iso);
  if (out.size() > 10 && out[10] == 'T') out[10] = ' ';
  if (!out.empty() && out.back() == 'Z') out.pop_back();
  return out;
}

}  // namespace

std::string_view ToString(CursorKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

CursorKind CursorKindFromString(std::string_view name) {
  for (size_t i = 0; i < std::size(kKindNames); ++i) {
    if (kKindNames[i] == name) return static_cast<CursorKind>(i);
  }
  return CursorKind::kText;
}

std::string_view StripQuery(std::string_view query) {
  auto is_blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  };
  while (!query.empty() && is_blank(query.front())) query.remove_prefix(1);
  while (!query.empty() && (is_blank(query.back()) || query.back() == ';')) query.remove_suffix(1);
  return query;
}

Result<std::string> CursorLiteral(const Dialect& d, const CursorValue& value) {
  switch (value.kind) {
    case CursorKind::kInteger:
    case CursorKind::kDecimal:
      if (!IsDecimalNumber(value.text, value.kind == CursorKind::kDecimal)) {
        return Error(ErrorCode::kConfig,
                     "the stored cursor '{}' is not a {} value; reset it with rivet state reset",
                     value.text, ToString(value.kind));
      }
      return value.text;
    case CursorKind::kDate:
      return d.quote_literal(value.text);
    case CursorKind::kTimestamp:
      return d.quote_literal(SpaceSeparated(value.text));
    case CursorKind::kTimestampTz: {
      std::string text = SpaceSeparated(value.text);
      // PostgreSQL reads an offset-less timestamptz in the session zone; say UTC outright.
      if (d.engine == Engine::kPostgres) text += "+00";
      return d.quote_literal(text);
    }
    case CursorKind::kText:
      return d.quote_literal(value.text);
  }
  return Error(ErrorCode::kInternal, "unknown cursor kind");
}

Result<std::string> IncrementalQuery(const Dialect& d, std::string_view query,
                                     std::string_view cursor_column,
                                     const std::optional<CursorValue>& last) {
  const std::string column = d.quote_identifier(cursor_column);
  if (!last) {
    return fmt::format("SELECT * FROM (\n{}\n) AS _rivet ORDER BY {}", StripQuery(query), column);
  }
  RIVET_ASSIGN_OR_RETURN(std::string literal, CursorLiteral(d, *last));
  return Wrap(query, fmt::format("{} > {} ORDER BY {}", column, literal, column));
}

int64_t UtcMidnightDaysAgo(SystemTime now, int64_t days) {
  const int64_t micros = ToUnixMicros(now);
  const int64_t today = columnar::FloorDiv(micros, columnar::kMicrosPerDay);
  return (today - days) * columnar::kMicrosPerDay;
}

Result<std::string> TimeWindowQuery(const Dialect& d, std::string_view query,
                                    std::string_view time_column, config::TimeColumnType type,
                                    int64_t days, SystemTime now) {
  const int64_t bound = UtcMidnightDaysAgo(now, days);
  const std::string column = d.quote_identifier(time_column);
  if (type == config::TimeColumnType::kUnix) {
    return Wrap(query, fmt::format("{} >= {}", column, bound / columnar::kMicrosPerSecond));
  }
  const columnar::CivilDate c = columnar::CivilFromDays(bound / columnar::kMicrosPerDay);
  std::string text = fmt::format("{:04}-{:02}-{:02} 00:00:00", c.year, c.month, c.day);
  // A PostgreSQL timestamptz column reads the bound as UTC whatever the session zone.
  if (d.engine == Engine::kPostgres) text += "+00";
  RIVET_ASSIGN_OR_RETURN(std::string literal, d.quote_literal(text));
  return Wrap(query, fmt::format("{} >= {}", column, literal));
}

std::string MinMaxQuery(const Dialect& d, std::string_view query, std::string_view column) {
  const std::string c = d.quote_identifier(column);
  return fmt::format("SELECT MIN({0}), MAX({0}) FROM (\n{1}\n) AS _rivet", c, StripQuery(query));
}

std::string ChunkQuery(const Dialect& d, std::string_view query, std::string_view column,
                       int64_t lo, int64_t hi) {
  const std::string c = d.quote_identifier(column);
  return Wrap(query, fmt::format("{0} >= {1} AND {0} <= {2}", c, lo, hi));
}

std::string NullChunkQuery(const Dialect& d, std::string_view query, std::string_view column) {
  return Wrap(query, fmt::format("{} IS NULL", d.quote_identifier(column)));
}

std::string DescribeQuery(std::string_view query) {
  return fmt::format("SELECT * FROM (\n{}\n) AS _rivet LIMIT 0", StripQuery(query));
}

}  // namespace rivet::plan
