// The MySQL / MariaDB type matrix for the end-to-end tests: every type of reference §5 (MySQL)
// with NULLs and edge values, in table rivet_e2e_mysql_types. Each column carries the SQL that
// makes the server print its value in the canonical form of tools/read-parquet.mjs and in the
// text Rivet's CSV promises, so expected values always come from the server itself.
#pragma once

#include <string>
#include <vector>

namespace rivet::testing {

// How a server text turns into a canonical value (tools/read-parquet.mjs) or a CSV field.
enum class MysqlCanon {
  kText,     // the text as it is
  kBool,     // "0" / "1" -> false / true (Parquet) or "false" / "true" (CSV)
  kFloat32,  // a FLOAT printed exactly as a double (CAST(f AS DOUBLE))
  kFloat64,  // a DOUBLE as the server prints it (round-trips exactly)
};

struct MysqlMatrixColumn {
  const char* name;
  const char* definition;
  const char* canonical_sql;  // the Parquet canonical text, computed by the server
  const char* csv_sql;        // the CSV text, computed by the server (nullptr: canonical_sql)
  MysqlCanon canon;
  const char* duckdb_type;  // DuckDB's DESCRIBE type of the Parquet column
};

inline const std::vector<MysqlMatrixColumn>& MysqlMatrix() {
  static const std::vector<MysqlMatrixColumn> columns = {
      {"id", "INT NOT NULL PRIMARY KEY", "id", nullptr, MysqlCanon::kText, "INTEGER"},
      {"b", "TINYINT(1)", "b", nullptr, MysqlCanon::kBool, "BOOLEAN"},
      {"bo", "BOOL", "bo", nullptr, MysqlCanon::kBool, "BOOLEAN"},
      {"bit1", "BIT(1)", "bit1 + 0", nullptr, MysqlCanon::kBool, "BOOLEAN"},
      {"bit12", "BIT(12)", "bit12 + 0", nullptr, MysqlCanon::kText, "BIGINT"},
      {"bit64", "BIT(64)", "CAST(bit64 AS UNSIGNED)", nullptr, MysqlCanon::kText, "UBIGINT"},
      {"ti", "TINYINT", "ti", nullptr, MysqlCanon::kText, "TINYINT"},
      {"tiu", "TINYINT UNSIGNED", "tiu", nullptr, MysqlCanon::kText, "UTINYINT"},
      {"si", "SMALLINT", "si", nullptr, MysqlCanon::kText, "SMALLINT"},
      {"siu", "SMALLINT UNSIGNED", "siu", nullptr, MysqlCanon::kText, "USMALLINT"},
      {"mi", "MEDIUMINT", "mi", nullptr, MysqlCanon::kText, "INTEGER"},
      {"miu", "MEDIUMINT UNSIGNED", "miu", nullptr, MysqlCanon::kText, "INTEGER"},
      {"i", "INT", "i", nullptr, MysqlCanon::kText, "INTEGER"},
      {"iu", "INT UNSIGNED", "iu", nullptr, MysqlCanon::kText, "BIGINT"},
      {"bi", "BIGINT", "bi", nullptr, MysqlCanon::kText, "BIGINT"},
      {"biu", "BIGINT UNSIGNED", "biu", nullptr, MysqlCanon::kText, "UBIGINT"},
      {"f", "FLOAT", "CAST(f AS DOUBLE)", nullptr, MysqlCanon::kFloat32, "FLOAT"},
      {"d", "DOUBLE", "d", nullptr, MysqlCanon::kFloat64, "DOUBLE"},
      {"dec12", "DECIMAL(12,2)", "dec12", nullptr, MysqlCanon::kText, "DECIMAL(12,2)"},
      {"dec38", "DECIMAL(38,10)", "dec38", nullptr, MysqlCanon::kText, "DECIMAL(38,10)"},
      {"dec65", "DECIMAL(65,30)", "dec65", nullptr, MysqlCanon::kText, "VARCHAR"},
      {"ch", "CHAR(10)", "ch", nullptr, MysqlCanon::kText, "VARCHAR"},
      {"vc", "VARCHAR(100)", "vc", nullptr, MysqlCanon::kText, "VARCHAR"},
      {"tx", "TEXT", "tx", nullptr, MysqlCanon::kText, "VARCHAR"},
      {"en", "ENUM('small','medium','large')", "en", nullptr, MysqlCanon::kText, "VARCHAR"},
      {"st", "SET('a','b','c')", "st", nullptr, MysqlCanon::kText, "VARCHAR"},
      {"bn", "BINARY(4)", "LOWER(HEX(bn))", nullptr, MysqlCanon::kText, "BLOB"},
      {"vb", "VARBINARY(16)", "LOWER(HEX(vb))", nullptr, MysqlCanon::kText, "BLOB"},
      {"bl", "BLOB", "LOWER(HEX(bl))", nullptr, MysqlCanon::kText, "BLOB"},
      {"js", "JSON", "js", nullptr, MysqlCanon::kText, "JSON"},
      // The zero date has no calendar day: Rivet exports it as NULL (reference §5).
      {"dt", "DATE", "IF(dt = '0000-00-00', NULL, DATEDIFF(dt, '1970-01-01'))",
       "IF(dt = '0000-00-00', NULL, DATE_FORMAT(dt, '%Y-%m-%d'))", MysqlCanon::kText, "DATE"},
      {"tm", "TIME(6)",
       "HOUR(tm) * 3600000000 + MINUTE(tm) * 60000000 + SECOND(tm) * 1000000 + MICROSECOND(tm)",
       "TIME_FORMAT(tm, '%H:%i:%s.%f')", MysqlCanon::kText, "TIME"},
      {"dtm", "DATETIME(6)",
       "IF(dtm = '0000-00-00 00:00:00', NULL, "
       "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', dtm))",
       "IF(dtm = '0000-00-00 00:00:00', NULL, DATE_FORMAT(dtm, '%Y-%m-%dT%H:%i:%s.%f'))",
       MysqlCanon::kText, "TIMESTAMP"},
      // Sessions run in +00:00 (MysqlClient and Rivet alike), so these are UTC instants.
      {"ts", "TIMESTAMP(6) NULL",
       "IF(ts = '0000-00-00 00:00:00', NULL, "
       "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ts))",
       "IF(ts = '0000-00-00 00:00:00', NULL, DATE_FORMAT(ts, '%Y-%m-%dT%H:%i:%s.%fZ'))",
       MysqlCanon::kText, "TIMESTAMP WITH TIME ZONE"},
      {"yr", "YEAR", "yr + 0", nullptr, MysqlCanon::kText, "INTEGER"},
  };
  return columns;
}

// Creates and fills rivet_e2e_mysql_types: typical values, maxima, minima with the zero dates,
// a row of NULLs, and a row of far dates, a zero TIMESTAMP and CSV-special text. The zero dates
// need a sql_mode without NO_ZERO_DATE / strict mode, set for this session only.
inline std::string MysqlTypesSetup() {
  std::string sql =
      "SET SESSION sql_mode = ''; SET time_zone = '+00:00';"
      "DROP TABLE IF EXISTS rivet_e2e_mysql_types;"
      "CREATE TABLE rivet_e2e_mysql_types (";
  const auto& columns = MysqlMatrix();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += std::string(columns[i].name) + " " + columns[i].definition;
  }
  sql += ") CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;";
  sql += R"sql(
INSERT INTO rivet_e2e_mysql_types VALUES
 (1, 1, 0, b'1', b'101010101010', b'1', -5, 200, -1234, 65000, -70000, 16000000, -2000000000,
  4000000000, -9000000000000000000, 12345678901234567890, 3.25, -2.718281828459045,
  -1234567890.12, -1234567890123456789012345678.0123456789,
  12345678901234567890123456789012345.123456789012345678901234567890,
  'abc', 'héllo wörld', 'a,b "q"\nline2\r\nend', 'medium', 'a,c', X'00010000', X'00FF00',
  X'DEADBEEF00', '{"k": [1, 2, {"x": null}]}', '2024-02-29', '12:34:56.789012',
  '2024-02-29 23:59:59.999999', '2024-02-29 12:00:00.5', 2024),
 (2, 0, 1, b'0', b'111111111111',
  b'1111111111111111111111111111111111111111111111111111111111111111', 127, 255, 32767, 65535,
  8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  -3.4028235e38, 1.7976931348623157e308, 9999999999.99, 9999999999999999999999999999.9999999999,
  99999999999999999999999999999999999.999999999999999999999999999999,
  '', '😀 𝄞 ok', '中文 ü 😀 𐍈', 'small', '', X'00000000', X'', X'00', '[]', '1000-01-01',
  '00:00:00', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:01.000001', 1901),
 (3, 0, 0, b'0', b'0', b'0', -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
  -9223372036854775808, 0, 1.17549435e-38, -4.9e-324, -9999999999.99,
  -9999999999999999999999999999.9999999999,
  -99999999999999999999999999999999999.999999999999999999999999999999,
  'z', 'x', '', 'large', 'a,b,c', X'FFFFFFFF', X'0000', REPEAT(X'00', 70000),
  '{"emoji": "😀"}', '0000-00-00', '23:59:59.999999', '0000-00-00 00:00:00',
  '2038-01-19 03:14:07.999999', 2155);
INSERT INTO rivet_e2e_mysql_types (id) VALUES (4);
INSERT INTO rivet_e2e_mysql_types (id, dec12, tx, dt, dtm, ts, f, d, yr) VALUES
 (5, 0, 'tab\there', '9999-12-31', '9999-12-31 23:59:59.999999', '0000-00-00 00:00:00',
  0, 1e-300, 0);
)sql";
  return sql;
}

}  // namespace rivet::testing
