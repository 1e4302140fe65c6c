// The MySQL / MariaDB source against a real server (RIVET_TEST_MYSQL_URL, started by
// scripts/servers/mariadb.sh): every type of reference §5 decoded through both wire protocols
// and compared value by value with what the server itself prints, error classification,
// statement timeouts, and session isolation between streams.
#include "rivet/source/mysql/mysql_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rivet/columnar/batch.h"
#include "support/test_env.h"

namespace rivet::source::mysql {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::DataType;
using columnar::Int128;
using columnar::TypeId;
using TextRows = std::vector<std::vector<std::optional<std::string>>>;

config::SourceConfig UrlConfig(const std::string& url) {
  config::SourceConfig config;
  config.type = config::SourceType::kMysql;
  config.url = config::Secret(url);
  return config;
}

std::unique_ptr<Source> Connected(const std::string& url, ReadOptions options = {},
                                  Protocol protocol = kDefaultProtocol) {
  auto source = MakeMysqlSourceWithProtocol(UrlConfig(url), options, protocol);
  EXPECT_TRUE(source.has_value()) << source.error().message();
  if (!source) return nullptr;
  Status connected = (*source)->Connect();
  EXPECT_TRUE(connected.ok()) << connected.message();
  if (!connected.ok()) return nullptr;
  return std::move(*source);
}

TextRows Query(Source& source, const std::string& sql) {
  auto rows = source.QueryText(sql);
  EXPECT_TRUE(rows.has_value()) << sql << ": " << rows.error().message();
  return rows ? *rows : TextRows{};
}

// Reads a whole stream; each batch is checked for consistent column lengths.
struct Streamed {
  columnar::SchemaPtr schema;
  std::vector<Batch> batches;
};

Result<Streamed> StreamAll(Source& source, const std::string& query) {
  RIVET_ASSIGN_OR_RETURN(auto stream, source.Stream(query));
  Streamed out;
  out.schema = stream->schema();
  while (true) {
    Batch batch(stream->schema());
    RIVET_ASSIGN_OR_RETURN(bool more, stream->Next(batch));
    if (!more) {
      EXPECT_EQ(batch.num_rows(), 0u);
      break;
    }
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      EXPECT_EQ(batch.column(c).size(), batch.num_rows());
    }
    out.batches.push_back(std::move(batch));
  }
  return out;
}

std::string Int128Text(Int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  unsigned __int128 u =
      negative ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  std::string digits;
  while (u > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string DecimalText(Int128 unscaled, int scale) {
  bool negative = unscaled < 0;
  std::string digits = Int128Text(negative ? -unscaled : unscaled);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return negative ? "-" + digits : digits;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The decoded value in the same form as the server-side expression of the matrix prints it.
std::optional<std::string> Render(const Column& column, size_t row) {
  if (!column.IsValid(row)) return std::nullopt;
  const DataType& type = column.type();
  switch (type.id) {
    case TypeId::kBool:
      return std::to_string(column.values<uint8_t>()[row]);
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kDate:
      return std::to_string(column.values<int32_t>()[row]);
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return std::to_string(column.values<int64_t>()[row]);
    case TypeId::kUInt64:
      return std::to_string(static_cast<uint64_t>(column.values<int64_t>()[row]));
    case TypeId::kFloat32:
      return fmt::format("{}", column.values<float>()[row]);
    case TypeId::kFloat64:
      return fmt::format("{}", column.values<double>()[row]);
    case TypeId::kDecimal:
      if (type.precision <= columnar::kMaxDecimal64Precision) {
        return DecimalText(column.values<int64_t>()[row], type.scale);
      }
      return DecimalText(column.values<Int128>()[row], type.scale);
    case TypeId::kBinary:
      return Hex(column.StringAt(row));
    default:
      return std::string(column.StringAt(row));
  }
}

// Server text of a float column, printed like Render() prints the decoded value.
std::optional<std::string> NormalizeFloat(const std::optional<std::string>& text, bool single) {
  if (!text) return text;
  const char* end = text->data() + text->size();
  double v = 0;
  auto r = std::from_chars(text->data(), end, v);
  EXPECT_EQ(r.ptr, end) << *text;
  // FLOAT values come as CAST(f AS DOUBLE): exact, since every float is a double.
  if (single) return fmt::format("{}", static_cast<float>(v));
  return fmt::format("{}", v);
}

struct MatrixColumn {
  const char* name;
  const char* definition;
  const char* expected_sql;  // how the server prints the value Rivet must decode
  DataType type;
};

const std::vector<MatrixColumn>& Matrix() {
  static const std::vector<MatrixColumn> columns = {
      {"b", "TINYINT(1)", "b", DataType::Of(TypeId::kBool)},
      {"bo", "BOOL", "bo", DataType::Of(TypeId::kBool)},
      {"bit1", "BIT(1)", "bit1 + 0", DataType::Of(TypeId::kBool)},
      {"bit12", "BIT(12)", "bit12 + 0", DataType::Of(TypeId::kInt64)},
      {"bit64", "BIT(64)", "CAST(bit64 AS UNSIGNED)", DataType::Of(TypeId::kUInt64)},
      {"ti", "TINYINT", "ti", DataType::Of(TypeId::kInt8)},
      {"tiu", "TINYINT UNSIGNED", "tiu", DataType::Of(TypeId::kUInt8)},
      {"si", "SMALLINT", "si", DataType::Of(TypeId::kInt16)},
      {"siu", "SMALLINT UNSIGNED", "siu", DataType::Of(TypeId::kUInt16)},
      {"mi", "MEDIUMINT", "mi", DataType::Of(TypeId::kInt32)},
      {"miu", "MEDIUMINT UNSIGNED", "miu", DataType::Of(TypeId::kInt32)},
      {"i", "INT", "i", DataType::Of(TypeId::kInt32)},
      {"iu", "INT UNSIGNED", "iu", DataType::Of(TypeId::kInt64)},
      {"bi", "BIGINT", "bi", DataType::Of(TypeId::kInt64)},
      {"biu", "BIGINT UNSIGNED", "biu", DataType::Of(TypeId::kUInt64)},
      {"f", "FLOAT", "CAST(f AS DOUBLE)", DataType::Of(TypeId::kFloat32)},
      {"d", "DOUBLE", "d", DataType::Of(TypeId::kFloat64)},
      {"dec12", "DECIMAL(12,2)", "dec12", DataType::Decimal(12, 2)},
      {"dec18", "DECIMAL(18,6)", "dec18", DataType::Decimal(18, 6)},
      {"dec38", "DECIMAL(38,10)", "dec38", DataType::Decimal(38, 10)},
      {"dec65", "DECIMAL(65,30)", "dec65", DataType::Of(TypeId::kString)},
      {"ch", "CHAR(10)", "ch", DataType::Of(TypeId::kString)},
      {"vc", "VARCHAR(100)", "vc", DataType::Of(TypeId::kString)},
      {"tx", "LONGTEXT", "tx", DataType::Of(TypeId::kString)},
      {"en", "ENUM('small','medium','large')", "en", DataType::Of(TypeId::kString)},
      {"st", "SET('a','b','c')", "st", DataType::Of(TypeId::kString)},
      {"bn", "BINARY(4)", "HEX(bn)", DataType::Of(TypeId::kBinary)},
      {"vb", "VARBINARY(16)", "HEX(vb)", DataType::Of(TypeId::kBinary)},
      {"bl", "LONGBLOB", "HEX(bl)", DataType::Of(TypeId::kBinary)},
      {"js", "JSON", "js", DataType::Of(TypeId::kJson)},
      {"dt", "DATE", "DATEDIFF(dt, '1970-01-01')", DataType::Of(TypeId::kDate)},
      {"tm", "TIME(6)",
       "HOUR(tm) * 3600000000 + MINUTE(tm) * 60000000 + SECOND(tm) * 1000000 + MICROSECOND(tm)",
       DataType::Of(TypeId::kTime)},
      {"dtm", "DATETIME(6)", "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', dtm)",
       DataType::Of(TypeId::kTimestamp)},
      {"ts", "TIMESTAMP(6) NULL", "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ts)",
       DataType::Of(TypeId::kTimestampTz)},
      {"yr", "YEAR", "yr", DataType::Of(TypeId::kInt32)},
  };
  return columns;
}

// Rows of the matrix, column order as Matrix(); NULL spelled NULL.
const char* kMatrixRows[] = {
    // Typical values.
    "(1, 1, 0, b'1', b'101010101010', b'1', -5, 200, -1234, 65000, -70000, 16000000, "
    "-2000000000, 4000000000, -9000000000000000000, 12345678901234567890, 3.25, "
    "-2.718281828459045, -1234567890.12, 123456789012.345678, "
    "-1234567890123456789012345678.0123456789, "
    "12345678901234567890123456789012345.123456789012345678901234567890, "
    "'abc', 'héllo wörld', 'long', 'medium', 'a,c', X'00010000', X'00FF00', X'DEADBEEF00', "
    "'{\"k\": [1, 2, {\"x\": null}]}', '2024-02-29', '12:34:56.789012', "
    "'2024-02-29 23:59:59.999999', '2024-02-29 12:00:00.5', 2024)",
    // Edges: extreme integers, widest decimals, 4-byte UTF-8, zero bytes, pre-1970 instants.
    "(2, 0, 1, b'0', b'111111111111', b'1111111111111111111111111111111111111111111111111111111"
    "111111111', 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, "
    "9223372036854775807, 18446744073709551615, -3.4028235e38, 1.7976931348623157e308, "
    "9999999999.99, 999999999999.999999, 9999999999999999999999999999.9999999999, "
    "99999999999999999999999999999999999.999999999999999999999999999999, "
    "'', '😀 𝄞 ok', REPEAT('é', 40000), 'small', '', X'00000000', X'', X'00', "
    "'[]', '1000-01-01', '00:00:00', '1969-12-31 23:59:59.999999', "
    "'1970-01-01 00:00:01.000001', 1901)",
    // Minimums and the zero date (exported as NULL).
    "(3, 0, 0, b'0', b'0', b'0', -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, "
    "-9223372036854775808, 0, 1.17549435e-38, -4.9e-324, -9999999999.99, "
    "-999999999999.999999, -9999999999999999999999999999.9999999999, "
    "-99999999999999999999999999999999999.999999999999999999999999999999, "
    "'z', 'x', '', 'large', 'a,b,c', X'FFFFFFFF', X'0000', REPEAT(X'00', 70000), "
    "'{\"emoji\": \"😀\"}', '0000-00-00', '23:59:59.999999', '0000-00-00 00:00:00', "
    "'2038-01-19 03:14:07.999999', 2155)",
};

class MysqlSourceTest : public ::testing::TestWithParam<Protocol> {};

TEST_P(MysqlSourceTest, TypeMatrixMatchesServerText) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto admin = Connected(url);
  ASSERT_TRUE(admin);
  // The text protocol refuses FLOAT (TextProtocolRefusesFloat); it reads everything else.
  std::vector<MatrixColumn> columns;
  for (const MatrixColumn& c : Matrix()) {
    if (GetParam() == Protocol::kText && std::string_view(c.name) == "f") continue;
    columns.push_back(c);
  }
  std::string create = "CREATE TABLE type_matrix (id INT PRIMARY KEY";
  for (const MatrixColumn& c : Matrix()) create += fmt::format(", {} {}", c.name, c.definition);
  create += ") CHARACTER SET utf8mb4";
  std::string expected_sql = "SELECT id";
  std::string select = "SELECT id";
  for (const MatrixColumn& c : columns) {
    expected_sql += fmt::format(", {}", c.expected_sql);
    select += fmt::format(", {}", c.name);
  }
  expected_sql += " FROM type_matrix ORDER BY id";
  select += " FROM type_matrix ORDER BY id";
  Query(*admin, "DROP TABLE IF EXISTS type_matrix");
  Query(*admin, create);
  // The zero date needs a permissive sql_mode (on this admin session only).
  Query(*admin, "SET SESSION sql_mode = ''");
  for (const char* row : kMatrixRows)
    Query(*admin, fmt::format("INSERT INTO type_matrix VALUES {}", row));
  Query(*admin, "INSERT INTO type_matrix (id) VALUES (4)");  // NULL in every column
  TextRows expected = Query(*admin, expected_sql);
  ASSERT_EQ(expected.size(), 4u);

  ReadOptions options;
  options.batch_rows = 3;  // several batches
  auto source = Connected(url, options, GetParam());
  ASSERT_TRUE(source);
  auto streamed = StreamAll(*source, select);
  ASSERT_TRUE(streamed.has_value()) << streamed.error().message();
  const auto& schema = *streamed->schema;
  ASSERT_EQ(schema.size(), columns.size() + 1);
  for (size_t c = 0; c < columns.size(); ++c) {
    EXPECT_EQ(schema[c + 1].name, columns[c].name);
    EXPECT_EQ(schema[c + 1].type, columns[c].type)
        << columns[c].name << " decoded as " << schema[c + 1].type.ToString();
  }
  ASSERT_EQ(streamed->batches.size(), 2u);
  size_t row = 0;
  for (const Batch& batch : streamed->batches) {
    for (size_t r = 0; r < batch.num_rows(); ++r, ++row) {
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        std::optional<std::string> want = expected[row][c];
        TypeId id = schema[c].type.id;
        if (id == TypeId::kFloat32 || id == TypeId::kFloat64) {
          want = NormalizeFloat(want, id == TypeId::kFloat32);
        }
        EXPECT_EQ(Render(batch.column(c), r), want)
            << "row " << row + 1 << " column " << schema[c].name;
      }
    }
  }
  ASSERT_EQ(row, 4u);
  // Spot checks that do not go through the server's printing: the zero date is NULL, the
  // unsigned maximum keeps its bits, 4-byte characters and zero bytes are intact.
  const Batch& first = streamed->batches[0];
  auto column_index = [&](std::string_view name) {
    for (size_t i = 0; i < schema.size(); ++i) {
      if (schema[i].name == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return size_t{0};
  };
  EXPECT_FALSE(first.column(column_index("dt")).IsValid(2));
  EXPECT_FALSE(first.column(column_index("dtm")).IsValid(2));
  EXPECT_EQ(first.column(column_index("biu")).values<int64_t>()[1], -1);  // 2^64-1 bit pattern
  EXPECT_EQ(first.column(column_index("vc")).StringAt(1), "😀 𝄞 ok");
  EXPECT_EQ(first.column(column_index("bn")).StringAt(1), std::string(4, '\0'));
  EXPECT_EQ(first.column(column_index("tx")).StringAt(1).size(), 80000u);  // 40000 x 2 bytes
  EXPECT_EQ(first.column(column_index("bl")).StringAt(2).size(), 70000u);
  EXPECT_EQ(first.column(column_index("ts")).values<int64_t>()[1], 1000001);
  EXPECT_EQ(first.column(column_index("dtm")).values<int64_t>()[1], -1);
}

TEST(MysqlSource, TextProtocolRefusesFloatAndBinaryKeepsItExact) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  // 3.4028235e38 is FLT_MAX; the text protocol would print 3.40282e38.
  const std::string query = "SELECT CAST(3.4028234663852886e38 AS FLOAT) AS f_max";
  auto text = Connected(url, {}, Protocol::kText);
  ASSERT_TRUE(text);
  auto refused = StreamAll(*text, query);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotSupported);
  EXPECT_NE(refused.error().message().find("'f_max'"), std::string::npos);
  auto binary = Connected(url, {}, Protocol::kBinary);
  ASSERT_TRUE(binary);
  auto exact = StreamAll(*binary, query);
  ASSERT_TRUE(exact.has_value()) << exact.error().message();
  ASSERT_EQ(exact->batches.size(), 1u);
  EXPECT_EQ(exact->batches[0].column(0).values<float>()[0], std::numeric_limits<float>::max());
}

TEST_P(MysqlSourceTest, TimeOutsideADayIsAnErrorNamingTheColumn) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto admin = Connected(url);
  ASSERT_TRUE(admin);
  Query(*admin, "DROP TABLE IF EXISTS durations");
  Query(*admin, "CREATE TABLE durations (id INT PRIMARY KEY, took TIME)");
  Query(*admin,
        "INSERT INTO durations VALUES (1, '10:00:00'), (2, '838:59:59'), "
        "(3, '-01:00:00')");
  for (const char* value : {"838:59:59", "-01:00:00"}) {
    auto source = Connected(url, {}, GetParam());
    ASSERT_TRUE(source);
    auto streamed = StreamAll(*source, fmt::format("SELECT took AS duration_col FROM durations "
                                                   "WHERE took = '{}' OR id = 1 ORDER BY id",
                                                   value));
    ASSERT_FALSE(streamed.has_value());
    EXPECT_EQ(streamed.error().code(), ErrorCode::kData);
    // Row 1 is id 1 (10:00:00); the bad value is row 2.
    EXPECT_NE(streamed.error().message().find("column 'duration_col' (row 2): TIME value"),
              std::string::npos)
        << streamed.error().message();
    EXPECT_NE(streamed.error().message().find(value), std::string::npos)
        << streamed.error().message();
    // The source stays usable after a failed stream.
    EXPECT_EQ(Query(*source, "SELECT 1").at(0).at(0), "1");
  }
}

TEST_P(MysqlSourceTest, TinyintOneOutsideZeroOneIsAnError) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto admin = Connected(url);
  ASSERT_TRUE(admin);
  Query(*admin, "DROP TABLE IF EXISTS flags");
  Query(*admin, "CREATE TABLE flags (id INT PRIMARY KEY, is_active TINYINT(1))");
  Query(*admin, "INSERT INTO flags VALUES (1, 1), (2, 0), (3, NULL), (4, 2)");
  auto source = Connected(url, {}, GetParam());
  ASSERT_TRUE(source);
  auto ok = StreamAll(*source, "SELECT is_active FROM flags WHERE id < 4 ORDER BY id");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  ASSERT_EQ(ok->batches.size(), 1u);
  const Column& column = ok->batches[0].column(0);
  EXPECT_EQ(column.values<uint8_t>()[0], 1);
  EXPECT_EQ(column.values<uint8_t>()[1], 0);
  EXPECT_FALSE(column.IsValid(2));
  // Batches of 3 rows: the bad value is the first row of the second batch, and its number
  // counts the whole stream.
  ReadOptions small_batches;
  small_batches.batch_rows = 3;
  auto batched = Connected(url, small_batches, GetParam());
  ASSERT_TRUE(batched);
  auto bad = StreamAll(*batched, "SELECT is_active FROM flags ORDER BY id");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kData);
  EXPECT_NE(bad.error().message().find("column 'is_active' (row 4): tinyint(1) value 2"),
            std::string::npos)
      << bad.error().message();
}

TEST_P(MysqlSourceTest, MissingTableIsAQueryError) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto source = Connected(url, {}, GetParam());
  ASSERT_TRUE(source);
  auto stream = source->Stream("SELECT * FROM no_such_table_here");
  ASSERT_FALSE(stream.has_value());
  EXPECT_EQ(stream.error().code(), ErrorCode::kQuery) << stream.error().message();
  auto syntax = source->Stream("SELEC 1");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kQuery) << syntax.error().message();
  EXPECT_EQ(Query(*source, "SELECT 2").at(0).at(0), "2");
}

TEST_P(MysqlSourceTest, StatementTimeoutCancelsAStall) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  ReadOptions options;
  options.statement_timeout_s = 1;
  auto source = Connected(url, options, GetParam());
  ASSERT_TRUE(source);
  auto streamed = StreamAll(*source, "SELECT SLEEP(3) AS slow");
  ASSERT_FALSE(streamed.has_value());
  EXPECT_EQ(streamed.error().code(), ErrorCode::kTimeout) << streamed.error().message();
  EXPECT_NE(streamed.error().message().find("statement_timeout_s"), std::string::npos)
      << streamed.error().message();
  // The same source reconnects for the next call, and small queries are bounded too.
  EXPECT_EQ(Query(*source, "SELECT 3").at(0).at(0), "3");
  auto slow_text = source->QueryText("SELECT SLEEP(3)");
  ASSERT_FALSE(slow_text.has_value());
  EXPECT_EQ(slow_text.error().code(), ErrorCode::kTimeout) << slow_text.error().message();
}

TEST_P(MysqlSourceTest, StatementTimeoutNeverBoundsAStreamThatKeepsDelivering) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  ReadOptions options;
  options.statement_timeout_s = 1;
  options.batch_rows = 20;
  auto source = Connected(url, options, GetParam());
  ASSERT_TRUE(source);
  // About 3 s in all, a 20 ms gap between rows. Each row is larger than the server's 16 KiB
  // network buffer, so it is sent as soon as it is produced.
  auto streamed = StreamAll(
      *source, "SELECT seq, REPEAT('x', 20000) AS pad, SLEEP(0.02) AS s FROM seq_1_to_150");
  ASSERT_TRUE(streamed.has_value()) << streamed.error().message();
  size_t rows = 0;
  for (const Batch& b : streamed->batches) rows += b.num_rows();
  EXPECT_EQ(rows, 150u);

  // Time the caller spends between batches (writing, throttling) is not a server stall.
  auto stream = source->Stream("SELECT seq, REPEAT('y', 1000) AS pad FROM seq_1_to_20000");
  ASSERT_TRUE(stream.has_value()) << stream.error().message();
  Batch batch((*stream)->schema());
  size_t total = 0;
  for (int i = 0; i < 2; ++i) {
    auto more = (*stream)->Next(batch);
    ASSERT_TRUE(more.has_value()) << more.error().message();
    total += batch.num_rows();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  while (true) {
    auto more = (*stream)->Next(batch);
    ASSERT_TRUE(more.has_value()) << more.error().message();
    if (!*more) break;
    total += batch.num_rows();
  }
  EXPECT_EQ(total, 20000u);
}

TEST_P(MysqlSourceTest, SessionSettingsDoNotLeakBetweenStreams) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto admin = Connected(url);
  ASSERT_TRUE(admin);
  Query(*admin, "DROP TABLE IF EXISTS snapshot_probe");
  Query(*admin, "CREATE TABLE snapshot_probe (id INT PRIMARY KEY)");
  Query(*admin, "INSERT INTO snapshot_probe VALUES (1)");

  ReadOptions options;
  options.lock_timeout_s = 7;
  auto source = Connected(url, options, GetParam());
  ASSERT_TRUE(source);
  const std::string probe =
      "SELECT @@session.time_zone AS tz, @@session.innodb_lock_wait_timeout AS lw, "
      "@@in_transaction AS tx, (SELECT COUNT(*) FROM snapshot_probe) AS n";
  auto first = StreamAll(*source, probe);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  ASSERT_EQ(first->batches.size(), 1u);
  EXPECT_EQ(first->batches[0].column(0).StringAt(0), "+00:00");
  EXPECT_EQ(Render(first->batches[0].column(1), 0), "7");
  EXPECT_EQ(Render(first->batches[0].column(2), 0), "1");  // inside the read-only transaction
  EXPECT_EQ(Render(first->batches[0].column(3), 0), "1");
  // The transaction ended with the stream.
  EXPECT_EQ(Query(*source, "SELECT @@in_transaction").at(0).at(0), "0");

  // A stream dropped half-way: the connection is closed, the next call starts afresh with the
  // same session and a new snapshot.
  {
    auto stream = source->Stream("SELECT seq FROM seq_1_to_1000000");
    ASSERT_TRUE(stream.has_value()) << stream.error().message();
    Batch batch((*stream)->schema());
    ASSERT_TRUE((*stream)->Next(batch).value());
  }
  Query(*admin, "INSERT INTO snapshot_probe VALUES (2)");
  auto second = StreamAll(*source, probe);
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->batches[0].column(0).StringAt(0), "+00:00");
  EXPECT_EQ(Render(second->batches[0].column(1), 0), "7");
  EXPECT_EQ(Render(second->batches[0].column(3), 0), "2");
  EXPECT_EQ(Query(*source, "SELECT @@in_transaction").at(0).at(0), "0");
}

INSTANTIATE_TEST_SUITE_P(Protocols, MysqlSourceTest,
                         ::testing::Values(Protocol::kText, Protocol::kBinary),
                         [](const ::testing::TestParamInfo<Protocol>& param_info) {
                           return param_info.param == Protocol::kText ? "Text" : "Binary";
                         });

TEST(MysqlSource, DescribesTheServer) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto source = Connected(url);
  ASSERT_TRUE(source);
  std::string version = Query(*source, "SELECT VERSION()").at(0).at(0).value_or("");
  std::string description = source->ServerDescription();
  // "MariaDB 10.11.6" from "10.11.6-MariaDB-...".
  std::string number = version.substr(0, version.find('-'));
  if (version.find("MariaDB") != std::string::npos) {
    EXPECT_EQ(description, "MariaDB " + number);
  } else {
    EXPECT_EQ(description, "MySQL " + number);
  }
}

TEST(MysqlSource, PasswordLoginAndAuthFailureWithoutThePassword) {
  RIVET_REQUIRE_ENV(pw_url, "RIVET_TEST_MYSQL_PW_URL");
  auto good = Connected(pw_url);
  ASSERT_TRUE(good);
  EXPECT_EQ(Query(*good, "SELECT CURRENT_USER()").at(0).at(0), "rivet_pw@127.0.0.1");

  const std::string wrong_password = "wr0ng-Pa55-xyz";
  std::string bad_url = pw_url;
  size_t at = bad_url.find("s3cret-pw");
  ASSERT_NE(at, std::string::npos);
  bad_url.replace(at, 9, wrong_password);
  auto source = MakeMysqlSource(UrlConfig(bad_url), {});
  ASSERT_TRUE(source.has_value());
  Status status = (*source)->Connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kAuth) << status.message();
  EXPECT_EQ(status.message().find(wrong_password), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find(bad_url), std::string::npos);

  // The structured form with the right password connects.
  RIVET_REQUIRE_ENV(port, "RIVET_TEST_MYSQL_PORT");
  config::SourceConfig structured;
  structured.type = config::SourceType::kMysql;
  structured.host = "127.0.0.1";
  structured.port = std::stoi(port);
  structured.user = "rivet_pw";
  structured.password = config::Secret("s3cret-pw");
  structured.database = "rivet_test";
  auto made = MakeMysqlSource(structured, {});
  ASSERT_TRUE(made.has_value());
  Status connected = (*made)->Connect();
  EXPECT_TRUE(connected.ok()) << connected.message();
}

TEST(MysqlSource, DemoDatabaseStreamsWithItsTypes) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  RIVET_REQUIRE_ENV(port, "RIVET_TEST_MYSQL_PORT");
  auto source = Connected(url);
  ASSERT_TRUE(source);
  // Load scripts/demo/mysql.sql unless it is already there (other suites may be reading it).
  auto users = source->QueryText("SELECT COUNT(*) FROM rivet_demo.users");
  if (!users.has_value() || users->at(0).at(0) != "1000") {
    auto load = rivet::testing::RunCommand(fmt::format(
        "mariadb --no-defaults -h 127.0.0.1 -P {} -u root < {}", port,
        rivet::testing::ShellQuote(std::string(RIVET_SOURCE_DIR) + "/scripts/demo/mysql.sql")));
    ASSERT_EQ(load.exit_code, 0) << load.err;
  }
  struct Expect {
    const char* table;
    size_t rows;
    std::vector<std::pair<const char*, DataType>> types;
  };
  const Expect expects[] = {
      {"users",
       1000,
       {{"id", DataType::Of(TypeId::kInt64)},
        {"full_name", DataType::Of(TypeId::kString)},
        {"plan", DataType::Of(TypeId::kString)},
        {"is_active", DataType::Of(TypeId::kBool)},
        {"balance", DataType::Decimal(12, 2)},
        {"preferences", DataType::Of(TypeId::kJson)},
        {"created_at", DataType::Of(TypeId::kTimestamp)},
        {"updated_at", DataType::Of(TypeId::kTimestampTz)}}},
      {"orders",
       3000,
       {{"total", DataType::Decimal(12, 2)},
        {"items", DataType::Of(TypeId::kJson)},
        {"is_gift", DataType::Of(TypeId::kBool)},
        {"shipped_on", DataType::Of(TypeId::kDate)}}},
      {"events",
       5000,
       {{"amount", DataType::Decimal(12, 2)}, {"payload", DataType::Of(TypeId::kJson)}}},
  };
  for (const Expect& e : expects) {
    for (Protocol protocol : {Protocol::kText, Protocol::kBinary}) {
      auto reader = Connected(url, {}, protocol);
      ASSERT_TRUE(reader);
      auto streamed = StreamAll(*reader, fmt::format("SELECT * FROM rivet_demo.{}", e.table));
      ASSERT_TRUE(streamed.has_value()) << e.table << ": " << streamed.error().message();
      size_t rows = 0;
      for (const Batch& b : streamed->batches) rows += b.num_rows();
      EXPECT_EQ(rows, e.rows) << e.table;
      for (const auto& [name, type] : e.types) {
        bool found = false;
        for (const columnar::Field& field : *streamed->schema) {
          if (field.name != name) continue;
          found = true;
          EXPECT_EQ(field.type, type) << e.table << "." << name << " is " << field.type.ToString();
        }
        EXPECT_TRUE(found) << e.table << "." << name;
      }
    }
  }
}

TEST(MysqlSource, RefusedConnectionIsANetworkError) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  // Port 1 on loopback: nothing listens there.
  auto source = MakeMysqlSource(UrlConfig("mysql://root:pw-not-shown@127.0.0.1:1/x"), {});
  ASSERT_TRUE(source.has_value());
  Status status = (*source)->Connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kNetwork) << status.message();
  EXPECT_EQ(status.message().find("pw-not-shown"), std::string::npos);
}

}  // namespace
}  // namespace rivet::source::mysql
