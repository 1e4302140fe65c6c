// The MySQL / MariaDB source against a real server (RIVET_TEST_MYSQL_URL, started by
// scripts/servers/mariadb.sh): every type of reference §5 decoded through both wire protocols
// and compared value by value with what the server itself prints, error classification,
// statement timeouts, and session isolation between streams.
#include "rivet/source/mysql/mysql_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rivet/columnar/batch.h"
#include "support/mysql_client.h"
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

// --- QuoteLiteral, Cancel and shared snapshots -----------------------------------------------

// Texts that a quoting mistake would change: quotes, backslashes, control characters, NUL,
// 4-byte UTF-8.
const std::vector<std::string>& LiteralTexts() {
  static const std::vector<std::string> texts = {
      "",
      "it's",
      "''",
      R"(back\slash \' \\ ends with\)",
      "line\nbreak\r\ttab \x1a ctrl-z",
      std::string("nul\0byte", 8),
      "\xF0\x9F\x98\x80 \xF0\x9D\x84\x9E four-byte UTF-8",
      R"("double" and `backtick` and %_ wildcards)",
      "all: ' \\ \n \xF0\x9F\x98\x80 '' \\'",
  };
  return texts;
}

void ExpectLiteralsRoundTrip(Source& source) {
  for (const std::string& text : LiteralTexts()) {
    auto literal = source.QuoteLiteral(text);
    ASSERT_TRUE(literal.has_value()) << literal.error().message();
    auto rows = source.QueryText("SELECT " + *literal);
    ASSERT_TRUE(rows.has_value()) << *literal << ": " << rows.error().message();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->at(0).at(0), text) << *literal;
  }
}

TEST(MysqlSource, QuoteLiteralFollowsTheSessionSqlMode) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto offline = MakeMysqlSource(UrlConfig(url), {});
  ASSERT_TRUE(offline.has_value());
  auto refused = (*offline)->QuoteLiteral("x");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("Connect"), std::string::npos)
      << refused.error().message();

  auto source = Connected(url);
  ASSERT_TRUE(source);
  ExpectLiteralsRoundTrip(*source);
  EXPECT_EQ(source->QuoteLiteral(R"(a\b)").value(), R"('a\\b')");

  // With NO_BACKSLASH_ESCAPES a backslash is an ordinary character: quotes are doubled instead.
  Query(*source, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
  EXPECT_EQ(source->QuoteLiteral(R"(a\b'c)").value(), R"('a\b''c')");
  ExpectLiteralsRoundTrip(*source);
}

// Calls source.Cancel() on another thread after `delay`.
std::thread CancelLater(Source& source, std::chrono::milliseconds delay) {
  return std::thread([&source, delay] {
    std::this_thread::sleep_for(delay);
    source.Cancel();
  });
}

TEST_P(MysqlSourceTest, CancelFromAnotherThreadStopsStreamsAndQueries) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  using std::chrono::steady_clock;
  using namespace std::chrono_literals;
  // Nothing connected yet: Cancel() does nothing.
  auto unconnected = MakeMysqlSource(UrlConfig(url), {});
  ASSERT_TRUE(unconnected.has_value());
  (*unconnected)->Cancel();

  ReadOptions options;  // statement_timeout_s = 0: no watchdog, only Cancel() stops these
  auto source = Connected(url, options, GetParam());
  ASSERT_TRUE(source);
  source->Cancel();  // nothing runs: no effect on the next call
  EXPECT_EQ(Query(*source, "SELECT 1").at(0).at(0), "1");

  // A stream waiting for its first row (SLEEP returns 1 when killed: still an error).
  auto start = steady_clock::now();
  std::thread canceller = CancelLater(*source, 300ms);
  auto streamed = StreamAll(*source, "SELECT SLEEP(30) AS slow");
  canceller.join();
  ASSERT_FALSE(streamed.has_value());
  EXPECT_LT(steady_clock::now() - start, 20s);
  EXPECT_EQ(streamed.error().code(), ErrorCode::kTimeout) << streamed.error().message();
  EXPECT_NE(streamed.error().message().find("Source::Cancel"), std::string::npos)
      << streamed.error().message();

  // A small query.
  start = steady_clock::now();
  canceller = CancelLater(*source, 300ms);
  auto text = source->QueryText("SELECT SLEEP(30)");
  canceller.join();
  ASSERT_FALSE(text.has_value());
  EXPECT_LT(steady_clock::now() - start, 20s);
  EXPECT_EQ(text.error().code(), ErrorCode::kTimeout) << text.error().message();

  // A stream between two batches: nothing more is delivered after the cancel.
  {
    auto stream = source->Stream("SELECT seq, REPEAT('z', 100) AS pad FROM seq_1_to_50000000");
    ASSERT_TRUE(stream.has_value()) << stream.error().message();
    Batch batch((*stream)->schema());
    auto first = (*stream)->Next(batch);
    ASSERT_TRUE(first.has_value()) << first.error().message();
    EXPECT_TRUE(*first);
    source->Cancel();
    auto next = (*stream)->Next(batch);
    ASSERT_FALSE(next.has_value());
    EXPECT_EQ(next.error().code(), ErrorCode::kTimeout) << next.error().message();
    EXPECT_EQ(batch.num_rows(), 0u);
  }

  // Usable afterwards, and nothing it started still runs on the server (a killed statement
  // takes a moment to leave the process list).
  EXPECT_EQ(Query(*source, "SELECT 2").at(0).at(0), "2");
  std::string running;
  for (int i = 0; i < 100; ++i) {
    running = Query(*source,
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> "
                    "CONNECTION_ID() AND (INFO LIKE '%SLEEP(30)%' OR INFO LIKE "
                    "'%seq_1_to_50000000%')")
                  .at(0)
                  .at(0)
                  .value_or("");
    if (running == "0") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(running, "0");
}

// Cancel() lands anywhere: between statements, during the set-up of a stream, mid-result,
// while a stream is abandoned. Every call then either succeeds or fails as cancelled, and the
// source stays usable.
TEST_P(MysqlSourceTest, CancelAtAnyTimeLeavesTheSourceUsable) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  auto source = Connected(url, {}, GetParam());
  ASSERT_TRUE(source);
  std::atomic<bool> stop{false};
  std::thread canceller([&] {
    while (!stop.load()) {
      source->Cancel();
      std::this_thread::sleep_for(std::chrono::milliseconds(7));
    }
  });
  int ok = 0;
  int cancelled = 0;
  for (int i = 0; i < 100; ++i) {
    Status status = Status::Ok();
    if (i % 2 == 0) {
      status = StreamAll(*source, "SELECT seq, MD5(seq) AS h FROM seq_1_to_20000").status();
    } else {
      status = source->QueryText("SELECT COUNT(*) FROM seq_1_to_2000000").status();
    }
    if (status.ok()) {
      ++ok;
    } else {
      ++cancelled;
      EXPECT_EQ(status.code(), ErrorCode::kTimeout) << status.message();
    }
  }
  stop.store(true);
  canceller.join();
  EXPECT_GT(cancelled, 0) << ok << " calls succeeded";
  EXPECT_EQ(Query(*source, "SELECT 42").at(0).at(0), "42");
}

constexpr const char* kSnapshotDb = "rivet_snap_test";

// The rows of the snapshot test table as "id=v", in id order, read through a Stream.
Result<std::vector<std::string>> StreamedRows(Source& source) {
  RIVET_ASSIGN_OR_RETURN(
      Streamed streamed,
      StreamAll(source, fmt::format("SELECT id, v FROM {}.t ORDER BY id", kSnapshotDb)));
  std::vector<std::string> rows;
  for (const Batch& batch : streamed.batches) {
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      rows.push_back(
          fmt::format("{}={}", batch.column(0).values<int32_t>()[r], batch.column(1).StringAt(r)));
    }
  }
  return rows;
}

// The same rows through QueryText.
std::vector<std::string> QueriedRows(Source& source) {
  std::vector<std::string> rows;
  for (const auto& row :
       Query(source, fmt::format("SELECT id, v FROM {}.t ORDER BY id", kSnapshotDb))) {
    rows.push_back(fmt::format("{}={}", row.at(0).value_or("NULL"), row.at(1).value_or("NULL")));
  }
  return rows;
}

// Creates rivet_snap_test.t with two rows (InnoDB: consistent snapshots need it).
void ResetSnapshotTable(testing::MysqlClient& admin) {
  ASSERT_EQ(admin.Exec(fmt::format("DROP DATABASE IF EXISTS {0}; CREATE DATABASE {0}; "
                                   "CREATE TABLE {0}.t (id INT PRIMARY KEY, v VARCHAR(20)) "
                                   "ENGINE = InnoDB; "
                                   "INSERT INTO {0}.t VALUES (1, 'old-1'), (2, 'old-2')",
                                   kSnapshotDb)),
            "");
}

void ChangeSnapshotTable(testing::MysqlClient& admin) {
  ASSERT_EQ(admin.Exec(fmt::format("UPDATE {0}.t SET v = 'new-1' WHERE id = 1; "
                                   "INSERT INTO {0}.t VALUES (3, 'new-3')",
                                   kSnapshotDb)),
            "");
}

const std::vector<std::string> kOldRows{"1=old-1", "2=old-2"};
const std::vector<std::string> kNewRows{"1=new-1", "2=old-2", "3=new-3"};

TEST_P(MysqlSourceTest, WorkersReadTheCoordinatorsSnapshot) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  testing::MysqlClient admin(url);
  ASSERT_TRUE(admin.ok()) << admin.error();
  ResetSnapshotTable(admin);

  ReadOptions options;
  options.lock_timeout_s = 30;  // the global read lock waits 10 s at most whatever this says
  auto coordinator = Connected(url, options, GetParam());
  auto first = Connected(url, options, GetParam());
  auto second = Connected(url, options, GetParam());
  ASSERT_TRUE(coordinator && first && second);
  EXPECT_FALSE(first->InSharedSnapshot());
  const std::vector<Source*> workers{first.get(), second.get()};
  Status shared = coordinator->ShareSnapshot(workers);
  ASSERT_TRUE(shared.ok()) << shared.message();
  EXPECT_TRUE(coordinator->InSharedSnapshot());
  EXPECT_TRUE(first->InSharedSnapshot());
  EXPECT_TRUE(second->InSharedSnapshot());
  // The global read lock is gone (the change below would wait for it), and the coordinator's
  // session is back to its own lock_wait_timeout.
  EXPECT_EQ(Query(*coordinator, "SELECT @@session.lock_wait_timeout").at(0).at(0), "30");

  ChangeSnapshotTable(admin);

  // Every Stream of every worker reads the snapshot, and the transaction stays open.
  for (Source* worker : workers) {
    for (int round = 0; round < 2; ++round) {
      auto rows = StreamedRows(*worker);
      ASSERT_TRUE(rows.has_value()) << rows.error().message();
      EXPECT_EQ(*rows, kOldRows) << "round " << round;
      EXPECT_EQ(Query(*worker, "SELECT @@in_transaction").at(0).at(0), "1");
    }
  }
  // A failing query does not end a worker's snapshot.
  auto missing = first->Stream("SELECT * FROM rivet_snap_test.no_such_table");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kQuery) << missing.error().message();
  EXPECT_TRUE(first->InSharedSnapshot());
  auto again = StreamedRows(*first);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, kOldRows);

  // The coordinator's QueryText and Streams read it too.
  EXPECT_EQ(QueriedRows(*coordinator), kOldRows);
  auto failed = coordinator->QueryText("SELECT * FROM rivet_snap_test.no_such_table");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(QueriedRows(*coordinator), kOldRows);
  auto streamed = StreamedRows(*coordinator);
  ASSERT_TRUE(streamed.has_value()) << streamed.error().message();
  EXPECT_EQ(*streamed, kOldRows);

  // A source outside the snapshot sees the new rows.
  auto fresh = Connected(url, options, GetParam());
  ASSERT_TRUE(fresh);
  auto current = StreamedRows(*fresh);
  ASSERT_TRUE(current.has_value()) << current.error().message();
  EXPECT_EQ(*current, kNewRows);
  EXPECT_FALSE(fresh->InSharedSnapshot());

  // A worker whose connection is killed loses the snapshot: the Stream that meets the dead
  // connection fails, later Streams read their own snapshot in their own transaction.
  const std::string id = Query(*second, "SELECT CONNECTION_ID()").at(0).at(0).value_or("");
  ASSERT_EQ(admin.Exec("KILL CONNECTION " + id), "");
  auto lost = StreamedRows(*second);
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code(), ErrorCode::kNetwork) << lost.error().message();
  EXPECT_FALSE(second->InSharedSnapshot());
  auto own = StreamedRows(*second);
  ASSERT_TRUE(own.has_value()) << own.error().message();
  EXPECT_EQ(*own, kNewRows);
  EXPECT_EQ(Query(*second, "SELECT @@in_transaction").at(0).at(0), "0");
  // The others keep theirs.
  auto kept = StreamedRows(*first);
  ASSERT_TRUE(kept.has_value()) << kept.error().message();
  EXPECT_EQ(*kept, kOldRows);
}

TEST(MysqlSource, ShareSnapshotWithoutReloadIsAnAuthErrorAndChangesNothing) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  RIVET_REQUIRE_ENV(port, "RIVET_TEST_MYSQL_PORT");
  testing::MysqlClient admin(url);
  ASSERT_TRUE(admin.ok()) << admin.error();
  ResetSnapshotTable(admin);
  ASSERT_EQ(admin.Exec("DROP USER IF EXISTS 'rivet_noreload'@'127.0.0.1'; "
                       "CREATE USER 'rivet_noreload'@'127.0.0.1' IDENTIFIED BY 'no-reload-pw'; "
                       "GRANT SELECT ON rivet_snap_test.* TO 'rivet_noreload'@'127.0.0.1'"),
            "");
  const std::string user_url =
      fmt::format("mysql://rivet_noreload:no-reload-pw@127.0.0.1:{}/rivet_snap_test", port);

  auto coordinator = Connected(user_url);
  auto worker = Connected(user_url);
  ASSERT_TRUE(coordinator && worker);
  const std::vector<Source*> workers{worker.get()};
  Status shared = coordinator->ShareSnapshot(workers);
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.code(), ErrorCode::kAuth) << shared.message();
  EXPECT_NE(shared.message().find("RELOAD"), std::string::npos) << shared.message();
  EXPECT_FALSE(coordinator->InSharedSnapshot());
  EXPECT_FALSE(worker->InSharedSnapshot());
  // Nothing changed: no transaction open, the session's lock_wait_timeout is its own again,
  // and Streams run in their own transactions as before.
  EXPECT_EQ(Query(*coordinator,
                  "SELECT @@in_transaction, "
                  "@@session.lock_wait_timeout = @@global.lock_wait_timeout")
                .at(0),
            (std::vector<std::optional<std::string>>{"0", "1"}));
  EXPECT_EQ(Query(*worker, "SELECT @@in_transaction").at(0).at(0), "0");
  auto before = StreamedRows(*worker);
  ASSERT_TRUE(before.has_value()) << before.error().message();
  EXPECT_EQ(*before, kOldRows);
  ChangeSnapshotTable(admin);
  auto after = StreamedRows(*worker);
  ASSERT_TRUE(after.has_value()) << after.error().message();
  EXPECT_EQ(*after, kNewRows);
  EXPECT_EQ(QueriedRows(*coordinator), kNewRows);
  EXPECT_EQ(Query(*worker, "SELECT @@in_transaction").at(0).at(0), "0");
  EXPECT_EQ(admin.Exec("DROP USER 'rivet_noreload'@'127.0.0.1'"), "");
}

TEST(MysqlSource, ShareSnapshotWaitsForTheGlobalLockAtMostLockTimeout) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_MYSQL_URL");
  testing::MysqlClient admin(url);
  ASSERT_TRUE(admin.ok()) << admin.error();
  ResetSnapshotTable(admin);
  // Another session holds a write lock: FLUSH TABLES WITH READ LOCK has to wait for it.
  testing::MysqlClient holder(url);
  ASSERT_TRUE(holder.ok()) << holder.error();
  ASSERT_EQ(holder.Exec("LOCK TABLES rivet_snap_test.t WRITE"), "");

  ReadOptions options;
  options.lock_timeout_s = 1;
  auto coordinator = Connected(url, options);
  auto worker = Connected(url, options);
  ASSERT_TRUE(coordinator && worker);
  const std::vector<Source*> workers{worker.get()};
  const auto start = std::chrono::steady_clock::now();
  Status shared = coordinator->ShareSnapshot(workers);
  ASSERT_FALSE(shared.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(shared.code(), ErrorCode::kTimeout) << shared.message();
  EXPECT_FALSE(coordinator->InSharedSnapshot());
  EXPECT_FALSE(worker->InSharedSnapshot());
  EXPECT_EQ(Query(*coordinator, "SELECT @@session.lock_wait_timeout").at(0).at(0), "1");
  ASSERT_EQ(holder.Exec("UNLOCK TABLES"), "");
  auto rows = StreamedRows(*worker);
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  EXPECT_EQ(*rows, kOldRows);
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
