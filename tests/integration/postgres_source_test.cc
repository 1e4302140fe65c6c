// The PostgreSQL source against a real server (RIVET_TEST_PG_URL, see scripts/servers/postgres.sh).
//
// Values are checked against PostgreSQL itself: each decoded value is rendered the way
// PostgreSQL's output functions print it (session in UTC, ISO dates, iso_8601 intervals,
// extra_float_digits=3) and compared with the text the server returns for the same rows.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/config/config.h"
#include "rivet/source/source.h"
#include "support/pg_client.h"
#include "support/test_env.h"

namespace rivet {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::DataType;
using columnar::TypeId;
using source::ReadOptions;
using source::Source;

constexpr const char* kSchema = "rivet_pg_source_test";

config::SourceConfig UrlConfig(const std::string& url) {
  config::SourceConfig c;
  c.type = config::SourceType::kPostgres;
  c.url = config::Secret(url);
  return c;
}

std::unique_ptr<Source> Open(const std::string& url, ReadOptions options = {}) {
  auto source = source::MakeSource(UrlConfig(url), options);
  EXPECT_TRUE(source.has_value()) << source.error().message();
  if (!source.has_value()) return nullptr;
  Status connected = (*source)->Connect();
  EXPECT_TRUE(connected.ok()) << connected.message();
  if (!connected.ok()) return nullptr;
  return std::move(*source);
}

struct Table {
  columnar::SchemaPtr schema;
  std::vector<std::unique_ptr<Batch>> batches;
  size_t rows() const {
    size_t n = 0;
    for (const auto& b : batches) n += b->num_rows();
    return n;
  }
};

Result<Table> ReadAll(Source& source, const std::string& query) {
  RIVET_ASSIGN_OR_RETURN(auto stream, source.Stream(query));
  Table table{stream->schema(), {}};
  for (;;) {
    auto batch = std::make_unique<Batch>(stream->schema());
    RIVET_ASSIGN_OR_RETURN(bool more, stream->Next(*batch));
    if (!more) {
      EXPECT_EQ(batch->num_rows(), 0u);
      break;
    }
    EXPECT_GT(batch->num_rows(), 0u);
    table.batches.push_back(std::move(batch));
  }
  return table;
}

void Exec(Source& source, const std::string& sql) {
  auto result = source.QueryText(sql);
  ASSERT_TRUE(result.has_value()) << sql << ": " << result.error().message();
}

// --- rendering a decoded value the way PostgreSQL prints it ---------------------------------

struct Civil {
  int64_t year;
  unsigned month, day;
};
// Days since 1970-01-01 -> proleptic Gregorian date (year 0 = 1 BC), as PostgreSQL counts.
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{m <= 2 ? y + 1 : y, m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string DateText(int64_t days, bool* bc) {
  Civil c = CivilFromDays(days);
  *bc = c.year <= 0;
  return fmt::format("{:04}-{:02}-{:02}", *bc ? 1 - c.year : c.year, c.month, c.day);
}

std::string TimeText(int64_t micros) {
  std::string s = fmt::format("{:02}:{:02}:{:02}", micros / 3600000000, micros / 60000000 % 60,
                              micros / 1000000 % 60);
  if (int64_t frac = micros % 1000000; frac != 0) {
    std::string f = fmt::format("{:06}", frac);
    while (f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s;
}

std::string TimestampText(int64_t micros, bool tz) {
  const int64_t days = FloorDiv(micros, 86400000000);
  bool bc = false;
  std::string s = DateText(days, &bc) + " " + TimeText(micros - days * 86400000000);
  if (tz) s += "+00";
  if (bc) s += " BC";
  return s;
}

std::string DecimalText(columnar::Int128 unscaled, int scale) {
  const bool negative = unscaled < 0;
  unsigned __int128 v = negative ? -static_cast<unsigned __int128>(unscaled)
                                 : static_cast<unsigned __int128>(unscaled);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  while (digits.size() <= static_cast<size_t>(scale)) digits.insert(digits.begin(), '0');
  if (scale > 0) digits.insert(digits.end() - scale, '.');
  return (negative ? "-" : "") + digits;
}

std::string Hex(std::string_view bytes) {
  std::string s;
  for (unsigned char c : bytes) s += fmt::format("{:02x}", c);
  return s;
}

std::string UuidText(const uint8_t* p) {
  std::string h = Hex(std::string_view(reinterpret_cast<const char*>(p), 16));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// array_out's quoting of one element.
std::string ArrayElement(const std::string& text) {
  bool quote = text.empty() || strcasecmp(text.c_str(), "NULL") == 0;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' ||
        c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      quote = true;
    }
  }
  if (!quote) return text;
  std::string s = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') s += '\\';
    s += c;
  }
  return s + "\"";
}

std::optional<std::string> Render(const Column& c, size_t row) {
  if (!c.IsValid(row)) return std::nullopt;
  const DataType& t = c.type();
  switch (t.id) {
    case TypeId::kBool:
      return c.values<uint8_t>()[row] ? "t" : "f";
    case TypeId::kInt16:
    case TypeId::kInt32:
      return std::to_string(c.values<int32_t>()[row]);
    case TypeId::kInt64:
      return std::to_string(c.values<int64_t>()[row]);
    case TypeId::kFloat32:
      return fmt::format("{}", c.values<float>()[row]);
    case TypeId::kFloat64:
      return fmt::format("{}", c.values<double>()[row]);
    case TypeId::kDecimal:
      if (t.precision <= columnar::kMaxDecimal64Precision) {
        return DecimalText(c.values<int64_t>()[row], t.scale);
      }
      return DecimalText(c.values<columnar::Int128>()[row], t.scale);
    case TypeId::kString:
    case TypeId::kJson:
      return std::string(c.StringAt(row));
    case TypeId::kBinary:
      return "\\x" + Hex(c.StringAt(row));
    case TypeId::kDate: {
      bool bc = false;
      std::string s = DateText(c.values<int32_t>()[row], &bc);
      return bc ? s + " BC" : s;
    }
    case TypeId::kTime:
      return TimeText(c.values<int64_t>()[row]);
    case TypeId::kTimestamp:
      return TimestampText(c.values<int64_t>()[row], false);
    case TypeId::kTimestampTz:
      return TimestampText(c.values<int64_t>()[row], true);
    case TypeId::kUuid:
      return UuidText(c.data().data() + 16 * row);
    case TypeId::kList: {
      std::string s = "{";
      for (int64_t i = c.offsets()[row]; i < c.offsets()[row + 1]; ++i) {
        if (i > c.offsets()[row]) s += ",";
        auto e = Render(c.child(), static_cast<size_t>(i));
        s += e ? ArrayElement(*e) : "NULL";
      }
      return s + "}";
    }
    default:
      return "<unrendered " + t.ToString() + ">";
  }
}

// Float text from PostgreSQL and a decoded float are equal when they parse to the same bits.
bool SameFloat(const std::string& pg_text, const Column& c, size_t row) {
  if (c.type().id == TypeId::kFloat32) {
    float pg = std::strtof(pg_text.c_str(), nullptr);
    float ours = c.values<float>()[row];
    return (std::isnan(pg) && std::isnan(ours)) ||
           (pg == ours && std::signbit(pg) == std::signbit(ours));
  }
  double pg = std::strtod(pg_text.c_str(), nullptr);
  double ours = c.values<double>()[row];
  return (std::isnan(pg) && std::isnan(ours)) ||
         (pg == ours && std::signbit(pg) == std::signbit(ours));
}

// Streams `query` and compares every value with PostgreSQL's own text for the same query.
void ExpectSameAsPostgresText(Source& source, const std::string& query, size_t expected_rows) {
  auto table = ReadAll(source, query);
  ASSERT_TRUE(table.has_value()) << table.error().message();
  auto text = source.QueryText(query);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  ASSERT_EQ(table->rows(), expected_rows);
  ASSERT_EQ(text->size(), expected_rows);
  size_t row = 0;
  for (const auto& batch : table->batches) {
    for (size_t r = 0; r < batch->num_rows(); ++r, ++row) {
      for (size_t c = 0; c < batch->num_columns(); ++c) {
        const Column& column = batch->column(c);
        const auto& pg = (*text)[row][c];
        const std::string& name = (*table->schema)[c].name;
        auto ours = Render(column, r);
        ASSERT_EQ(pg.has_value(), ours.has_value()) << "row " << row << " column " << name;
        if (!pg) continue;
        if (column.type().id == TypeId::kFloat32 || column.type().id == TypeId::kFloat64) {
          EXPECT_TRUE(SameFloat(*pg, column, r)) << "row " << row << " column " << name
                                                 << ": PostgreSQL " << *pg << ", Rivet " << *ours;
        } else {
          EXPECT_EQ(*ours, *pg) << "row " << row << " column " << name;
        }
      }
    }
  }
}

class PostgresSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    url_ = url;
  }
  std::string url_;
};

TEST_F(PostgresSourceTest, EveryMappedTypeMatchesPostgresText) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  Exec(*source, fmt::format(R"SQL(
    DROP SCHEMA IF EXISTS {0} CASCADE;
    CREATE SCHEMA {0};
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE TYPE {0}.mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN {0}.price AS numeric(8,2);
    CREATE TYPE {0}.pair AS (a int, b text);
    CREATE TABLE {0}.all_types (
      id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
      n38 numeric(38,0), n10 numeric(10,2), n20 numeric(20,5), nfree numeric, nbig numeric(50,10),
      t text, vc varchar(20), bc char(5), nm name, ci citext, by bytea, d date, tm time,
      ts timestamp, tstz timestamptz, u uuid, j json, jb jsonb, iv interval, mood {0}.mood,
      dom {0}.price, ia int4[], ta text[], na numeric(10,2)[], tsa timestamptz[], ua uuid[],
      ma {0}.mood[], cia citext[],
      inet_col inet, money_col money, r int4range, ineta inet[], ttz timetz, bits bit(4),
      x xml, pt point, comp {0}.pair, iva interval[], net cidr);
    INSERT INTO {0}.all_types VALUES
     (1, true, -32768, -2147483648, -9223372036854775808, 4294967295, 'NaN', 'Infinity',
      99999999999999999999999999999999999999, -0.01, -123456789012345.12345, 'NaN',
      1234567890123456789012345678901234567890.0123456789,
      'smile 😀 clef 𝄞 é', '', 'ab', 'a_name', 'MiXeD', '\x0000ff00', '1969-07-20',
      '00:00:00.000001', '1969-07-20 20:17:40.123456', '1969-12-31 19:00:00.5-05',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{"k": [1, "😀"]}}', '{{"z": 1, "a": [true, null]}}',
      '1 year 2 months 3 days 04:05:06.789', 'happy', 12.3, '{{1,NULL,3}}',
      ARRAY['a b', NULL, '', 'NULL', 'q"uote', 'back\slash', '😀', 'x,y'],
      '{{1.50,NULL,-0.01}}', ARRAY['2024-01-01 10:00:00+02'::timestamptz, NULL],
      ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid], '{{sad,NULL,happy}}', '{{AbC}}',
      '192.168.1.1/24', 12.34, '[1,10)', '{{10.0.0.1,NULL}}', '12:00:00+05', B'1010',
      '<a>1</a>', '(1,2)', ROW(1, 'x y'), ARRAY['1 day'::interval, NULL], '10.0.0.0/8'),
     (2, false, 32767, 2147483647, 9223372036854775807, 0, '-Infinity', 'NaN',
      -99999999999999999999999999999999999999, 99999999.99, 0.00001, '-0.000000000001',
      -0.0000000001, '', 'x', '', '', '', '', '0044-03-15 BC', '23:59:59.999999',
      '0001-12-31 23:59:59.999999 BC', '2024-02-29 12:30:00.5+05:30',
      '00000000-0000-0000-0000-000000000000', '[]', '{{}}', '-00:00:00.000001', 'sad', -0.5, '{{}}',
      '{{}}', '{{}}', '{{}}', '{{}}', '{{}}', '{{}}', '::1', -0.01, 'empty', '{{}}', '00:00:00-12',
      B'0000', '', '(0,0)', ROW(NULL, NULL), '{{}}', '10.1.2.3/32'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL),
     (4, true, 0, 0, 0, 42, 0.1, -0, 0, 0, 0, 1e-20, 0, 'line1
line2	tab', 'varchar', 'abcde', 'n', 'c', '\x', '2000-01-01', '12:34:56.789',
      '2000-01-01 00:00:00', '1970-01-01 00:00:00+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '"just a string"', '123.456', '0', 'ok', 0, '{{2147483647}}', '{{NULL}}', '{{0.00}}',
      '{{NULL}}', '{{NULL}}', '{{NULL}}', '{{NULL}}', '0.0.0.0/0', 0, '(,)', '{{NULL}}',
      '23:59:59.999999+14', B'1111', '<b/>', '(-1.5,2.5)', ROW(0, ''), '{{P1Y}}', '::/0');
  )SQL",
                            kSchema));

  const std::string query = fmt::format("SELECT * FROM {}.all_types ORDER BY id", kSchema);
  auto table = ReadAll(*source, query);
  ASSERT_TRUE(table.has_value()) << table.error().message();
  // The exact mapping (reference §5).
  const std::vector<std::pair<std::string, std::string>> expected_types = {
      {"id", "int32"},
      {"b", "bool"},
      {"i2", "int16"},
      {"i4", "int32"},
      {"i8", "int64"},
      {"o", "int64"},
      {"f4", "float32"},
      {"f8", "float64"},
      {"n38", "decimal(38,0)"},
      {"n10", "decimal(10,2)"},
      {"n20", "decimal(20,5)"},
      {"nfree", "string"},
      {"nbig", "string"},
      {"t", "string"},
      {"vc", "string"},
      {"bc", "string"},
      {"nm", "string"},
      {"ci", "string"},
      {"by", "binary"},
      {"d", "date"},
      {"tm", "time"},
      {"ts", "timestamp"},
      {"tstz", "timestamptz"},
      {"u", "uuid"},
      {"j", "json"},
      {"jb", "json"},
      {"iv", "string"},
      {"mood", "string"},
      {"dom", "decimal(8,2)"},
      {"ia", "list<int32>"},
      {"ta", "list<string>"},
      {"na", "list<decimal(10,2)>"},
      {"tsa", "list<timestamptz>"},
      {"ua", "list<uuid>"},
      {"ma", "list<string>"},
      {"cia", "list<string>"},
      {"inet_col", "string"},
      {"money_col", "string"},
      {"r", "string"},
      {"ineta", "list<string>"},
      {"ttz", "string"},
      {"bits", "string"},
      {"x", "string"},
      {"pt", "string"},
      {"comp", "string"},
      {"iva", "list<string>"},
      {"net", "string"},
  };
  ASSERT_EQ(table->schema->size(), expected_types.size());
  for (size_t i = 0; i < expected_types.size(); ++i) {
    EXPECT_EQ((*table->schema)[i].name, expected_types[i].first);
    EXPECT_EQ((*table->schema)[i].type.ToString(), expected_types[i].second)
        << expected_types[i].first;
  }
  ExpectSameAsPostgresText(*source, query, 4);

  // Spot checks that do not go through the renderer.
  const Batch& b = *table->batches.at(0);
  EXPECT_EQ(b.column(13).StringAt(0), "smile \xF0\x9F\x98\x80 clef \xF0\x9D\x84\x9E \xC3\xA9");
  EXPECT_TRUE(b.column(14).IsValid(0));  // '' is not NULL
  EXPECT_EQ(b.column(14).StringAt(0), "");
  EXPECT_FALSE(b.column(14).IsValid(2));
  EXPECT_EQ(b.column(18).StringAt(0), std::string("\0\0\xff\0", 4));
  EXPECT_EQ(b.column(22).values<int64_t>()[0], 500000);  // 1969-12-31 19:00:00.5-05 = 1970 UTC
  EXPECT_EQ(b.column(26).StringAt(0), "P1Y2M3DT4H5M6.789S");
  EXPECT_EQ(b.column(36).StringAt(0), "192.168.1.1/24");
  EXPECT_EQ(b.column(38).StringAt(0), "[1,10)");
}

TEST_F(PostgresSourceTest, ManyRowsInBatchesOfTheConfiguredSize) {
  ReadOptions options;
  options.batch_rows = 1000;
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  auto stream = source->Stream(
      "SELECT i AS id, md5(i::text) AS h, i * 0.01::numeric(12,2) AS amount "
      "FROM generate_series(1, 2500) AS i ORDER BY i;");
  ASSERT_TRUE(stream.has_value()) << stream.error().message();
  Batch batch((*stream)->schema());
  std::vector<size_t> sizes;
  int64_t next = 1;
  for (;;) {
    auto more = (*stream)->Next(batch);
    ASSERT_TRUE(more.has_value()) << more.error().message();
    if (!*more) break;
    sizes.push_back(batch.num_rows());
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      ASSERT_EQ(batch.column(0).values<int32_t>()[r], next++);
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(batch.num_rows(), 0u);
  auto again = (*stream)->Next(batch);  // stays exhausted
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
}

TEST_F(PostgresSourceTest, CastToTextKeepsDuplicateNames) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  auto table = ReadAll(*source,
                       "SELECT 1 AS a, '10.1.2.3'::inet AS a, '$5.00'::money AS m, "
                       "int4range(1, 5) AS r, '{{1,2},{3,4}}'::int[]::text AS grid");
  ASSERT_TRUE(table.has_value()) << table.error().message();
  ASSERT_EQ(table->schema->size(), 5u);
  EXPECT_EQ((*table->schema)[0].name, "a");
  EXPECT_EQ((*table->schema)[1].name, "a");
  const Batch& b = *table->batches.at(0);
  EXPECT_EQ(b.column(0).values<int32_t>()[0], 1);
  EXPECT_EQ(b.column(1).StringAt(0), "10.1.2.3");
  EXPECT_EQ(b.column(2).StringAt(0), "$5.00");
  EXPECT_EQ(b.column(3).StringAt(0), "[1,5)");
  EXPECT_EQ(b.column(4).StringAt(0), "{{1,2},{3,4}}");
}

TEST_F(PostgresSourceTest, DataErrorsNameTheColumn) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  struct Case {
    std::string query;
    std::string column;
    std::string value;
  };
  const Case cases[] = {
      {"SELECT x::numeric(10,2) AS price FROM (VALUES ('1.5'), ('NaN')) AS v(x)", "price", "NaN"},
      {"SELECT x::numeric(10,2)[] AS totals FROM (VALUES ('{1,NaN}')) AS v(x)", "totals", "NaN"},
      {"SELECT 'infinity'::timestamp AS seen_at", "seen_at", "infinity"},
      {"SELECT '-infinity'::date AS born", "born", "-infinity"},
      {"SELECT '{{1,2},{3,4}}'::int[] AS grid", "grid", "::text"},
      {"SELECT ARRAY['2024-01-01'::timestamptz, 'infinity'] AS stamps", "stamps", "infinity"},
  };
  for (const Case& c : cases) {
    auto table = ReadAll(*source, c.query);
    ASSERT_FALSE(table.has_value()) << c.query;
    EXPECT_EQ(table.error().code(), ErrorCode::kData) << table.error().message();
    EXPECT_NE(table.error().message().find("'" + c.column + "'"), std::string::npos)
        << table.error().message();
    EXPECT_NE(table.error().message().find(c.value), std::string::npos) << table.error().message();
  }
  // The connection is still usable afterwards.
  auto ok = ReadAll(*source, "SELECT 1 AS one");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->rows(), 1u);
}

// A list would read back as '{1,2,3}', so other bounds are refused like more dimensions are.
TEST_F(PostgresSourceTest, ArraysWithOtherBoundsFailNamingColumnAndRow) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  auto table = ReadAll(*source,
                       "SELECT id, x::int[] AS slots FROM (VALUES (1, '{1,2,3}'), "
                       "(2, '[-2:0]={1,2,3}')) AS v(id, x) ORDER BY id");
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code(), ErrorCode::kData) << table.error().message();
  EXPECT_NE(table.error().message().find("column 'slots' (row 2): an array with bounds [-2:0]"),
            std::string::npos)
      << table.error().message();
  EXPECT_NE(table.error().message().find("(\"slots\"::text)"), std::string::npos)
      << table.error().message();
  // The suggested cast keeps the bounds, and default bounds export as a list.
  auto text =
      ReadAll(*source, "SELECT '[-2:0]={1,2,3}'::int[]::text AS slots, '{4,5}'::int[] AS l");
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(text->batches.at(0)->column(0).StringAt(0), "[-2:0]={1,2,3}");
  EXPECT_EQ(text->batches.at(0)->column(1).child().size(), 2u);
}

TEST_F(PostgresSourceTest, AResultWithoutColumnsIsRefusedSayingWhy) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  auto table = ReadAll(*source, "SELECT FROM generate_series(1, 3)");
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code(), ErrorCode::kQuery);
  EXPECT_NE(table.error().message().find("no columns, and a result without columns cannot be "
                                         "written to Parquet or CSV; select at least one column"),
            std::string::npos)
      << table.error().message();
  auto ok = ReadAll(*source, "SELECT 1 AS one");  // the connection is still usable
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
}

TEST_F(PostgresSourceTest, StatementTimeoutCancelsAStalledQuery) {
  ReadOptions options;
  options.statement_timeout_s = 1;
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  auto table = ReadAll(*source, "SELECT 1 AS x FROM pg_sleep(5)");
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code(), ErrorCode::kTimeout);
  EXPECT_NE(table.error().message().find("no rows from PostgreSQL for 1s (statement_timeout_s)"),
            std::string::npos)
      << table.error().message();
  EXPECT_NE(table.error().message().find("cancelled"), std::string::npos);
  // The cancelled query left the server and the connection is reusable.
  auto activity = source->QueryText(
      "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(5)%' "
      "AND state = 'active' AND pid <> pg_backend_pid()");
  ASSERT_TRUE(activity.has_value()) << activity.error().message();
  EXPECT_EQ((*activity)[0][0], "0");
}

TEST_F(PostgresSourceTest, StatementTimeoutDoesNotCapAStreamThatKeepsDelivering) {
  ReadOptions options;
  options.statement_timeout_s = 1;
  options.batch_rows = 50;
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  // 12 pauses of 0.3 s: well over the timeout in total, never a stall as long as it. Rows are
  // ~2 KB so every pause is preceded by more than the server's 8 KB send buffer.
  const auto started = std::chrono::steady_clock::now();
  auto table = ReadAll(*source,
                       "SELECT i, repeat('x', 2000) AS pad, "
                       "CASE WHEN i % 20 = 0 THEN length(pg_sleep(0.3)::text) END AS slept "
                       "FROM generate_series(1, 240) AS i");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(table.has_value()) << table.error().message();
  EXPECT_EQ(table->rows(), 240u);
  // Every pause happened (one non-NULL `slept` per pause) ...
  size_t pauses = 0;
  for (const auto& batch : table->batches) {
    const Column& slept = batch->column(2);
    pauses += slept.size() - slept.null_count();
  }
  EXPECT_EQ(pauses, 12u);
  // ... so the stream ran about 3.6 s, more than three times the 1 s timeout, and was not cut.
  EXPECT_GE(elapsed, std::chrono::seconds(3))
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}

TEST_F(PostgresSourceTest, AbandonedStreamLeavesTheConnectionUsable) {
  ReadOptions options;
  options.batch_rows = 1000;
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  {
    auto stream = source->Stream("SELECT i, md5(i::text) FROM generate_series(1, 5000000) AS i");
    ASSERT_TRUE(stream.has_value()) << stream.error().message();
    Batch batch((*stream)->schema());
    auto more = (*stream)->Next(batch);
    ASSERT_TRUE(more.has_value()) << more.error().message();
    EXPECT_TRUE(*more);
    EXPECT_EQ(batch.num_rows(), 1000u);
  }  // destroyed mid-COPY: cancelled and rolled back
  auto table = ReadAll(*source, "SELECT 42 AS answer");
  ASSERT_TRUE(table.has_value()) << table.error().message();
  EXPECT_EQ(table->batches.at(0)->column(0).values<int32_t>()[0], 42);
}

TEST_F(PostgresSourceTest, StreamConnectsWhenNeeded) {
  auto source = source::MakeSource(UrlConfig(url_), {});
  ASSERT_TRUE(source.has_value());
  auto table = ReadAll(**source, "SELECT 'x' AS letter");
  ASSERT_TRUE(table.has_value()) << table.error().message();
  EXPECT_EQ(table->batches.at(0)->column(0).StringAt(0), "x");
}

TEST_F(PostgresSourceTest, ErrorAfterPartialDataIsReturned) {
  ReadOptions options;
  options.batch_rows = 100;
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  auto table = ReadAll(*source, "SELECT i, 1 / (i - 4000) AS boom FROM generate_series(1, 5000) i");
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code(), ErrorCode::kSource);
  EXPECT_NE(table.error().message().find("division by zero"), std::string::npos)
      << table.error().message();
  EXPECT_NE(table.error().message().find("22012"), std::string::npos);
}

TEST_F(PostgresSourceTest, QueryErrorsAreClassified) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  auto syntax = source->Stream("SELEC 1");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kQuery) << syntax.error().message();
  auto missing = source->Stream("SELECT * FROM rivet_no_such_table");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kQuery);
  EXPECT_NE(missing.error().message().find("rivet_no_such_table"), std::string::npos);
  auto column = source->Stream("SELECT no_such_column FROM generate_series(1, 2)");
  ASSERT_FALSE(column.has_value());
  EXPECT_EQ(column.error().code(), ErrorCode::kQuery);
  auto text = source->QueryText("SELECT * FROM rivet_no_such_table");
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code(), ErrorCode::kQuery);
  // Still usable, and a trailing semicolon is fine.
  auto ok = ReadAll(*source, "SELECT 1 AS one;");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
}

TEST_F(PostgresSourceTest, LockTimeoutIsATimeout) {
  auto setup = Open(url_);
  ASSERT_TRUE(setup);
  Exec(*setup, fmt::format("CREATE SCHEMA IF NOT EXISTS {0}; "
                           "CREATE TABLE IF NOT EXISTS {0}.locked (id int)",
                           kSchema));
  // Another session holds an exclusive lock while Rivet reads.
  std::unique_ptr<PGconn, decltype(&PQfinish)> holder(PQconnectdb(url_.c_str()), &PQfinish);
  ASSERT_EQ(PQstatus(holder.get()), CONNECTION_OK);
  PQclear(PQexec(holder.get(), "BEGIN"));
  PGresult* locked = PQexec(
      holder.get(), fmt::format("LOCK TABLE {}.locked IN ACCESS EXCLUSIVE MODE", kSchema).c_str());
  ASSERT_EQ(PQresultStatus(locked), PGRES_COMMAND_OK);
  PQclear(locked);

  ReadOptions options;
  options.lock_timeout_s = 1;
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  auto table = ReadAll(*source, fmt::format("SELECT * FROM {}.locked", kSchema));
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code(), ErrorCode::kTimeout) << table.error().message();
  EXPECT_NE(table.error().message().find("55P03"), std::string::npos) << table.error().message();
  PQclear(PQexec(holder.get(), "ROLLBACK"));
}

TEST_F(PostgresSourceTest, SessionIsNamedRivetAndReadOnly) {
  auto source = Open(url_ + (url_.find('?') == std::string::npos ? "?" : "&") +
                     "application_name=someone_else");
  ASSERT_TRUE(source);
  auto name = source->QueryText(
      "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(name.has_value()) << name.error().message();
  EXPECT_EQ((*name)[0][0], "rivet");
  auto table = ReadAll(*source,
                       "SELECT current_setting('transaction_read_only') AS ro, "
                       "current_setting('TimeZone') AS tz, current_setting('lock_timeout') AS lt");
  ASSERT_TRUE(table.has_value()) << table.error().message();
  const Batch& b = *table->batches.at(0);
  EXPECT_EQ(b.column(0).StringAt(0), "on");
  EXPECT_EQ(b.column(1).StringAt(0), "UTC");
  EXPECT_EQ(source->QuoteIdentifier("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(source->ServerDescription().rfind("PostgreSQL ", 0), 0u) << source->ServerDescription();
  auto version = source->QueryText("SHOW server_version_num");
  ASSERT_TRUE(version.has_value());
  const int v = std::stoi(*(*version)[0][0]);
  EXPECT_EQ(source->ServerDescription(), fmt::format("PostgreSQL {}.{}", v / 10000, v % 10000));
  auto nulls = source->QueryText("SELECT NULL::text, ''::text");
  ASSERT_TRUE(nulls.has_value());
  EXPECT_FALSE((*nulls)[0][0].has_value());
  EXPECT_EQ((*nulls)[0][1], "");
}

TEST_F(PostgresSourceTest, WrongPasswordIsAuthAndNeverEchoed) {
  RIVET_REQUIRE_ENV(pw_url_text, "RIVET_TEST_PG_PW_URL");
  const std::optional<std::string> pw_url = pw_url_text;
  // The right password works, by URL and by structured fields.
  auto good = Open(*pw_url);
  ASSERT_TRUE(good);
  const std::string right = "s3cret-pw";
  const std::string wrong = "Wr0ng-Passw0rd-42";
  std::string bad_url = *pw_url;
  bad_url.replace(bad_url.find(right), right.size(), wrong);

  auto source = source::MakeSource(UrlConfig(bad_url), {});
  ASSERT_TRUE(source.has_value());
  Status status = (*source)->Connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kAuth) << status.message();
  EXPECT_EQ(status.message().find(wrong), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find(bad_url), std::string::npos);

  auto port = testing::EnvVar("RIVET_TEST_PG_PORT");
  ASSERT_TRUE(port);
  config::SourceConfig structured;
  structured.host = "127.0.0.1";
  structured.port = std::stoi(*port);
  structured.user = "rivet_pw";
  structured.database = "rivet_test";
  structured.password = config::Secret(right);
  auto ok = source::MakeSource(structured, {});
  ASSERT_TRUE(ok.has_value());
  Status connected = (*ok)->Connect();
  EXPECT_TRUE(connected.ok()) << connected.message();
  structured.password = config::Secret(wrong);
  auto bad = source::MakeSource(structured, {});
  ASSERT_TRUE(bad.has_value());
  Status refused = (*bad)->Connect();
  EXPECT_EQ(refused.code(), ErrorCode::kAuth) << refused.message();
  EXPECT_EQ(refused.message().find(wrong), std::string::npos) << refused.message();
}

// --- QuoteLiteral, Cancel and shared snapshots -----------------------------------------------

// Texts that a quoting mistake would change: quotes, backslashes (ordinary characters with
// standard_conforming_strings), control characters, 4-byte UTF-8, escape-string look-alikes.
const std::vector<std::string>& LiteralTexts() {
  static const std::vector<std::string> texts = {
      "",
      "it's",
      "''",
      R"(back\slash \' \\ ends with\)",
      "line\nbreak\r\ttab",
      "\xF0\x9F\x98\x80 \xF0\x9D\x84\x9E four-byte UTF-8",
      R"(E'\n' and $$dollars$$ and "double")",
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
    EXPECT_EQ((*rows)[0][0], text) << *literal;
  }
}

TEST_F(PostgresSourceTest, QuoteLiteralRoundTripsThroughTheServer) {
  auto source = Open(url_);
  ASSERT_TRUE(source);
  ExpectLiteralsRoundTrip(*source);
  auto nul = source->QuoteLiteral(std::string("a\0b", 3));
  ASSERT_FALSE(nul.has_value());
  EXPECT_EQ(nul.error().code(), ErrorCode::kData) << nul.error().message();

  // A connection that starts with standard_conforming_strings off (a role or server setting)
  // is switched back on by Connect, so the same quoting holds.
  auto legacy = Open(url_ + (url_.find('?') == std::string::npos ? "?" : "&") +
                     "options=-c%20standard_conforming_strings%3Doff");
  ASSERT_TRUE(legacy);
  auto setting = legacy->QueryText("SHOW standard_conforming_strings");
  ASSERT_TRUE(setting.has_value()) << setting.error().message();
  EXPECT_EQ((*setting)[0][0], "on");
  ExpectLiteralsRoundTrip(*legacy);
}

// Calls source.Cancel() on another thread after `delay`.
std::thread CancelLater(Source& source, std::chrono::milliseconds delay) {
  return std::thread([&source, delay] {
    std::this_thread::sleep_for(delay);
    source.Cancel();
  });
}

TEST_F(PostgresSourceTest, CancelFromAnotherThreadStopsStreamsAndQueries) {
  using std::chrono::steady_clock;
  using namespace std::chrono_literals;
  // Nothing connected yet: Cancel() does nothing.
  auto unconnected = source::MakeSource(UrlConfig(url_), {});
  ASSERT_TRUE(unconnected.has_value());
  (*unconnected)->Cancel();

  ReadOptions options;  // statement_timeout_s = 0: only Cancel() can stop these statements
  auto source = Open(url_, options);
  ASSERT_TRUE(source);
  source->Cancel();  // nothing runs: no effect on the next call
  auto idle = source->QueryText("SELECT 1");
  ASSERT_TRUE(idle.has_value()) << idle.error().message();

  // A stream waiting for its first row.
  auto start = steady_clock::now();
  std::thread canceller = CancelLater(*source, 300ms);
  auto table = ReadAll(*source, "SELECT 1 AS x FROM pg_sleep(30)");
  canceller.join();
  ASSERT_FALSE(table.has_value());
  EXPECT_LT(steady_clock::now() - start, 20s);
  EXPECT_EQ(table.error().code(), ErrorCode::kTimeout) << table.error().message();
  EXPECT_NE(table.error().message().find("Source::Cancel"), std::string::npos)
      << table.error().message();

  // A small query.
  start = steady_clock::now();
  canceller = CancelLater(*source, 300ms);
  auto text = source->QueryText("SELECT pg_sleep(30)");
  canceller.join();
  ASSERT_FALSE(text.has_value());
  EXPECT_LT(steady_clock::now() - start, 20s);
  EXPECT_EQ(text.error().code(), ErrorCode::kTimeout) << text.error().message();

  // A stream between two batches: rows already received are not delivered after the cancel.
  {
    auto stream = source->Stream("SELECT i, md5(i::text) FROM generate_series(1, 5000001) AS i");
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

  // The source is usable afterwards, and nothing it started still runs on the server.
  auto after = ReadAll(*source, "SELECT 42 AS answer");
  ASSERT_TRUE(after.has_value()) << after.error().message();
  EXPECT_EQ(after->batches.at(0)->column(0).values<int32_t>()[0], 42);
  auto activity = source->QueryText(
      "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
      "AND (query LIKE '%pg_sleep(30)%' OR query LIKE '%generate_series(1, 5000001)%')");
  ASSERT_TRUE(activity.has_value()) << activity.error().message();
  EXPECT_EQ((*activity)[0][0], "0");
}

// Cancel() lands anywhere: between statements, during the set-up of a stream, mid-COPY, while a
// stream is abandoned. Every call then either succeeds or fails as cancelled, never leaves the
// connection unusable.
TEST_F(PostgresSourceTest, CancelAtAnyTimeLeavesTheSourceUsable) {
  auto source = Open(url_);
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
      auto table = ReadAll(*source, "SELECT i, md5(i::text) FROM generate_series(1, 20000) i");
      status = table.status();
    } else {
      auto rows = source->QueryText("SELECT count(*) FROM generate_series(1, 200000)");
      status = rows.status();
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
  auto after = ReadAll(*source, "SELECT 42 AS answer");
  ASSERT_TRUE(after.has_value()) << after.error().message();
}

constexpr const char* kSnapshotSchema = "rivet_snap_test";

// The rows of the snapshot test table as "id=v", in id order, read through a Stream.
Result<std::vector<std::string>> StreamedRows(Source& source) {
  RIVET_ASSIGN_OR_RETURN(
      Table table,
      ReadAll(source, fmt::format("SELECT id, v FROM {}.t ORDER BY id", kSnapshotSchema)));
  std::vector<std::string> rows;
  for (const auto& batch : table.batches) {
    for (size_t r = 0; r < batch->num_rows(); ++r) {
      rows.push_back(fmt::format("{}={}", batch->column(0).values<int32_t>()[r],
                                 batch->column(1).StringAt(r)));
    }
  }
  return rows;
}

// The same rows through QueryText.
std::vector<std::string> QueriedRows(Source& source) {
  std::vector<std::string> rows;
  auto result =
      source.QueryText(fmt::format("SELECT id, v FROM {}.t ORDER BY id", kSnapshotSchema));
  EXPECT_TRUE(result.has_value()) << result.error().message();
  if (!result.has_value()) return rows;
  for (const auto& row : *result) rows.push_back(fmt::format("{}={}", *row[0], *row[1]));
  return rows;
}

TEST_F(PostgresSourceTest, WorkersReadTheCoordinatorsSnapshot) {
  testing::PgClient admin(url_);
  ASSERT_TRUE(admin.ok()) << admin.error();
  ASSERT_EQ(admin.Exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}; "
                                   "CREATE TABLE {0}.t (id int PRIMARY KEY, v text); "
                                   "INSERT INTO {0}.t VALUES (1, 'old-1'), (2, 'old-2')",
                                   kSnapshotSchema)),
            "");
  const std::vector<std::string> old_rows{"1=old-1", "2=old-2"};
  const std::vector<std::string> new_rows{"1=new-1", "2=old-2", "3=new-3"};

  auto coordinator = Open(url_);
  auto first = Open(url_);
  auto second = Open(url_);
  ASSERT_TRUE(coordinator && first && second);
  EXPECT_FALSE(first->InSharedSnapshot());
  const std::vector<Source*> workers{first.get(), second.get()};
  Status shared = coordinator->ShareSnapshot(workers);
  ASSERT_TRUE(shared.ok()) << shared.message();
  EXPECT_TRUE(coordinator->InSharedSnapshot());
  EXPECT_TRUE(first->InSharedSnapshot());
  EXPECT_TRUE(second->InSharedSnapshot());

  // Committed by another session after the snapshot was taken.
  ASSERT_EQ(admin.Exec(fmt::format("UPDATE {0}.t SET v = 'new-1' WHERE id = 1; "
                                   "INSERT INTO {0}.t VALUES (3, 'new-3')",
                                   kSnapshotSchema)),
            "");

  // Every Stream of every worker (each its own transaction) reads the snapshot.
  for (Source* worker : workers) {
    for (int round = 0; round < 2; ++round) {
      auto rows = StreamedRows(*worker);
      ASSERT_TRUE(rows.has_value()) << rows.error().message();
      EXPECT_EQ(*rows, old_rows) << "round " << round;
    }
  }
  // The coordinator's QueryText and Streams read it too, also after a failing statement.
  EXPECT_EQ(QueriedRows(*coordinator), old_rows);
  auto failed = coordinator->QueryText("SELECT 1 / 0");
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message().find("22012"), std::string::npos) << failed.error().message();
  EXPECT_EQ(QueriedRows(*coordinator), old_rows);
  auto streamed = StreamedRows(*coordinator);
  ASSERT_TRUE(streamed.has_value()) << streamed.error().message();
  EXPECT_EQ(*streamed, old_rows);
  auto failed_stream = ReadAll(*coordinator, "SELECT i, 1 / (i - 3) FROM generate_series(1, 5) i");
  ASSERT_FALSE(failed_stream.has_value());
  EXPECT_EQ(QueriedRows(*coordinator), old_rows);
  auto isolation = coordinator->QueryText("SHOW transaction_isolation");
  ASSERT_TRUE(isolation.has_value()) << isolation.error().message();
  EXPECT_EQ((*isolation)[0][0], "repeatable read");
  EXPECT_TRUE(coordinator->InSharedSnapshot());

  // A source outside the snapshot sees the new rows.
  auto fresh = Open(url_);
  ASSERT_TRUE(fresh);
  auto current = StreamedRows(*fresh);
  ASSERT_TRUE(current.has_value()) << current.error().message();
  EXPECT_EQ(*current, new_rows);
  EXPECT_FALSE(fresh->InSharedSnapshot());

  // A worker whose backend is killed reconnects on its next Stream and rejoins the snapshot.
  auto pid = first->QueryText("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.has_value()) << pid.error().message();
  const std::string old_pid = *(*pid)[0][0];
  auto killed = admin.Query(fmt::format("SELECT pg_terminate_backend({}, 10000)", old_pid));
  ASSERT_EQ(killed.size(), 1u) << admin.error();
  EXPECT_EQ(killed[0][0], "t");
  auto rejoined = StreamedRows(*first);
  ASSERT_TRUE(rejoined.has_value()) << rejoined.error().message();
  EXPECT_EQ(*rejoined, old_rows);
  EXPECT_TRUE(first->InSharedSnapshot());
  auto new_pid = first->QueryText("SELECT pg_backend_pid()");
  ASSERT_TRUE(new_pid.has_value()) << new_pid.error().message();
  EXPECT_NE(*(*new_pid)[0][0], old_pid);

  // Once the coordinator is gone the snapshot cannot be imported: each worker says so once and
  // reads a snapshot of its own from then on. (Its backend ends a moment after the connection
  // closes; until then the snapshot can still be imported.)
  auto coordinator_pid = coordinator->QueryText("SELECT pg_backend_pid()");
  ASSERT_TRUE(coordinator_pid.has_value()) << coordinator_pid.error().message();
  coordinator.reset();
  for (int i = 0; i < 200; ++i) {
    auto left = admin.Query(fmt::format("SELECT count(*) FROM pg_stat_activity WHERE pid = {}",
                                        *(*coordinator_pid)[0][0]));
    ASSERT_EQ(left.size(), 1u) << admin.error();
    if (left[0][0] == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (Source* worker : workers) {
    for (int round = 0; round < 2; ++round) {
      auto rows = StreamedRows(*worker);
      ASSERT_TRUE(rows.has_value()) << rows.error().message();
      EXPECT_EQ(*rows, new_rows) << "round " << round;
      EXPECT_FALSE(worker->InSharedSnapshot());
    }
  }
}

TEST_F(PostgresSourceTest, CoordinatorLosingItsConnectionEndsTheSharedSnapshot) {
  auto coordinator = Open(url_);
  auto worker = Open(url_);
  ASSERT_TRUE(coordinator && worker);
  const std::vector<Source*> workers{worker.get()};
  Status shared = coordinator->ShareSnapshot(workers);
  ASSERT_TRUE(shared.ok()) << shared.message();
  auto pid = coordinator->QueryText("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.has_value()) << pid.error().message();
  testing::PgClient admin(url_);
  ASSERT_TRUE(admin.ok()) << admin.error();
  auto killed = admin.Query(fmt::format("SELECT pg_terminate_backend({}, 10000)", *(*pid)[0][0]));
  ASSERT_EQ(killed.size(), 1u) << admin.error();
  // The statement that meets the lost connection fails; the coordinator then reconnects and
  // reads the current data, and no longer claims the snapshot.
  auto lost = coordinator->QueryText("SELECT 1");
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code(), ErrorCode::kNetwork) << lost.error().message();
  EXPECT_FALSE(coordinator->InSharedSnapshot());
  auto again = coordinator->QueryText("SELECT current_setting('transaction_isolation')");
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ((*again)[0][0], "read committed");
  // The worker falls back to its own snapshot.
  auto rows = ReadAll(*worker, "SELECT 1 AS one");
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  EXPECT_FALSE(worker->InSharedSnapshot());
}

TEST_F(PostgresSourceTest, ClosedPortIsANetworkError) {
  const std::string secret = "not-a-real-pw";
  auto source = source::MakeSource(
      UrlConfig("postgresql://someone:" + secret + "@127.0.0.1:1/rivet_test?connect_timeout=5"),
      {});
  ASSERT_TRUE(source.has_value());
  Status status = (*source)->Connect();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kNetwork) << status.message();
  EXPECT_EQ(status.message().find(secret), std::string::npos) << status.message();
  // A URL libpq cannot parse is refused without echoing it.
  auto broken = source::MakeSource(UrlConfig("postgresql://u:" + secret + "@[::1/db"), {});
  ASSERT_TRUE(broken.has_value());
  Status parse = (*broken)->Connect();
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.code(), ErrorCode::kConfig) << parse.message();
  EXPECT_EQ(parse.message().find(secret), std::string::npos) << parse.message();
}

}  // namespace
}  // namespace rivet
