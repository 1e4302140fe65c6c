// MariaDB -> rivet Parquet -> independent readers (DuckDB and hyparquet): every value of the MySQL
// type matrix compared with what the server computes, every logical type checked in DuckDB's
// DESCRIBE, for every codec; and the same table to CSV, compared field by field.
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/csv_reader.h"
#include "support/mysql_client.h"
#include "support/mysql_types_fixture.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using nlohmann::json;

double ParseDouble(const std::string& text) {
  double v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  EXPECT_TRUE(r.ec == std::errc() && r.ptr == text.data() + text.size()) << text;
  return v;
}

// tools/read-parquet.mjs's form of a float: "0x" + the 16 hex digits of the double's bits.
std::string FloatBits(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  char out[19] = "0x";
  for (int i = 0; i < 16; ++i) out[2 + i] = "0123456789abcdef"[(bits >> (60 - 4 * i)) & 15];
  return std::string(out, 18);
}

// The server's text of one matrix column turned into the canonical value of read-parquet.mjs.
json Canonical(const std::optional<std::string>& text, MysqlCanon canon) {
  if (!text) return nullptr;
  switch (canon) {
    case MysqlCanon::kBool:
      return *text != "0";
    // A FLOAT arrives as CAST(f AS DOUBLE): exactly the float, widened like the readers widen it.
    case MysqlCanon::kFloat32:
    case MysqlCanon::kFloat64:
      return FloatBits(ParseDouble(*text));
    case MysqlCanon::kText:
      return *text;
  }
  return nullptr;
}

std::string SelectList(bool csv) {
  std::string select = "SELECT ";
  const auto& columns = MysqlMatrix();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) select += ", ";
    select += csv && columns[i].csv_sql ? columns[i].csv_sql : columns[i].canonical_sql;
  }
  return select + " FROM rivet_e2e_mysql_types ORDER BY id";
}

constexpr size_t kMatrixRows = 5;

class MysqlParquetTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto url = EnvVar("RIVET_TEST_MYSQL_URL");
    auto tools = EnvVar("RIVET_TEST_TOOLS");
    if (!url || !tools) {
      if (InCi()) FAIL() << "RIVET_TEST_MYSQL_URL / RIVET_TEST_TOOLS are not set";
      GTEST_SKIP() << "RIVET_TEST_MYSQL_URL / RIVET_TEST_TOOLS are not set: use scripts/test.sh";
    }
    url_ = *url;
    tools_ = *tools;
    MysqlClient my(url_);
    ASSERT_TRUE(my.ok()) << my.error();
    ASSERT_EQ(my.Exec(MysqlTypesSetup()), "");
    dir_ = MakeTempDir("mysql-parquet");
  }

  // Exports the matrix with `format` / `compression` (none given: the default) and returns the one
  // file written.
  std::string Export(const std::string& format, const std::string& compression,
                     const std::string& query = "SELECT * FROM rivet_e2e_mysql_types ORDER BY id",
                     size_t rows = kMatrixRows) {
    std::string config = dir_ + "/rivet.yaml";
    WriteFile(config,
              "source:\n  type: mysql\n  url_env: RIVET_E2E_URL\n"
              "  tuning:\n    profile: fast\n    batch_size: 4000\nexports:\n  - name: matrix\n"
              "    query: \"" +
                  query +
                  "\"\n"
                  "    format: " +
                  format + "\n" +
                  (compression.empty() ? "" : "    compression: " + compression + "\n") +
                  "    destination:\n      type: local\n      path: out\n");
    CommandResult r = RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY +
                                 " run --validate -c " + config);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    last_err_ = r.err;
    EXPECT_NE(r.err.find("validated:   pass"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("rows:        " + std::to_string(rows)), std::string::npos) << r.err;
    std::vector<std::string> files = ListDir(dir_ + "/out");
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? "" : dir_ + "/out/" + files[0];
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
  std::string last_err_;  // rivet's stderr in the last Export()
};

TEST_P(MysqlParquetTest, EveryTypeReadsBackExactlyInTwoReaders) {
  std::string file = Export("parquet", GetParam());
  ASSERT_FALSE(file.empty());
  MysqlClient my(url_);
  std::vector<CsvRow> expected = my.Query(SelectList(false));
  ASSERT_EQ(expected.size(), kMatrixRows) << my.error();
  const auto& columns = MysqlMatrix();

  for (std::string reader : {"duckdb", "hyparquet"}) {
    SCOPED_TRACE(reader);
    CommandResult r = ReadParquet(tools_, reader, file);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = SplitLines(r.out);
    ASSERT_EQ(lines.size(), expected.size() + 1) << r.out;
    json header = json::parse(lines[0]);
    ASSERT_EQ(header["columns"].size(), columns.size());
    for (size_t c = 0; c < columns.size(); ++c) {
      EXPECT_EQ(header["columns"][c]["name"], columns[c].name);
      if (reader == "duckdb") {
        EXPECT_EQ(header["columns"][c]["type"], columns[c].duckdb_type) << columns[c].name;
      }
    }
    for (size_t row = 0; row < expected.size(); ++row) {
      json got = json::parse(lines[row + 1]);
      ASSERT_EQ(got.size(), columns.size());
      for (size_t c = 0; c < columns.size(); ++c) {
        EXPECT_EQ(got[c], Canonical(expected[row][c], columns[c].canon))
            << "row id " << *expected[row][0] << ", column " << columns[c].name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, MysqlParquetTest,
                         ::testing::Values("zstd", "snappy", "gzip", "lz4", "none"));

class MysqlCsvTest : public MysqlParquetTest {};

// Two CSV floats are the same when they read back to the same bits: Rivet writes the shortest
// text that round-trips (reference §5), the server may print another spelling of the value.
void ExpectSameFloat(const std::optional<std::string>& got, const std::optional<std::string>& want,
                     bool single, const std::string& where) {
  ASSERT_EQ(got.has_value(), want.has_value()) << where;
  if (!got) return;
  if (single) {
    float g = 0;
    auto r = std::from_chars(got->data(), got->data() + got->size(), g);
    EXPECT_TRUE(r.ec == std::errc() && r.ptr == got->data() + got->size()) << where << ": " << *got;
    EXPECT_EQ(FloatBits(g), FloatBits(ParseDouble(*want))) << where << ": " << *got;
  } else {
    EXPECT_EQ(FloatBits(ParseDouble(*got)), FloatBits(ParseDouble(*want))) << where << ": " << *got;
  }
}

TEST_F(MysqlCsvTest, EveryTypeToCsvMatchesWhatTheServerPrints) {
  std::string file = Export("csv", "");
  ASSERT_FALSE(file.empty());
  EXPECT_TRUE(std::regex_search(file, std::regex(R"(/matrix_\d{8}_\d{6}\.csv$)"))) << file;
  std::vector<CsvRow> csv = ParseCsv(ReadFile(file));
  MysqlClient my(url_);
  std::vector<CsvRow> expected = my.Query(SelectList(true));
  ASSERT_EQ(expected.size(), kMatrixRows) << my.error();
  const auto& columns = MysqlMatrix();
  ASSERT_EQ(csv.size(), expected.size() + 1);
  ASSERT_EQ(csv[0].size(), columns.size());
  for (size_t c = 0; c < columns.size(); ++c) EXPECT_EQ(csv[0][c], columns[c].name);
  for (size_t row = 0; row < expected.size(); ++row) {
    ASSERT_EQ(csv[row + 1].size(), columns.size()) << "row " << row;
    for (size_t c = 0; c < columns.size(); ++c) {
      std::string where = "row id " + *expected[row][0] + ", column " + columns[c].name;
      const std::optional<std::string>& want = expected[row][c];
      const std::optional<std::string>& got = csv[row + 1][c];
      switch (columns[c].canon) {
        case MysqlCanon::kBool:
          EXPECT_EQ(got, want ? std::optional<std::string>(*want == "0" ? "false" : "true")
                              : std::nullopt)
              << where;
          break;
        case MysqlCanon::kFloat32:
        case MysqlCanon::kFloat64:
          ExpectSameFloat(got, want, columns[c].canon == MysqlCanon::kFloat32, where);
          break;
        case MysqlCanon::kText:
          EXPECT_EQ(got, want) << where;
          break;
      }
    }
  }
}

// Many batches (4,000 rows each) into one file: long and short strings, NULLs, 4-byte characters
// and unsigned 64-bit values across batch boundaries, checked through aggregates both sides
// compute (the server in SQL, DuckDB on the file).
class MysqlParquetShapes : public MysqlParquetTest {};

TEST_F(MysqlParquetShapes, ManyBatchesKeepEveryValue) {
  MysqlClient my(url_);
  // MariaDB stops a recursive CTE at 1,000 iterations unless told otherwise.
  ASSERT_EQ(my.Exec("SET SESSION max_recursive_iterations = 100000;"
                    "DROP TABLE IF EXISTS rivet_e2e_mysql_big;"
                    "CREATE TABLE rivet_e2e_mysql_big (id INT PRIMARY KEY, kind VARCHAR(10), "
                    "payload TEXT, amount DECIMAL(12,2), big BIGINT UNSIGNED, seen_at DATETIME(6)) "
                    "CHARACTER SET utf8mb4;"
                    "INSERT INTO rivet_e2e_mysql_big WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                    "SELECT i + 1 FROM n WHERE i < 30000) SELECT i, "
                    "ELT(1 + i % 4, 'view', 'click', 'buy', '😀'), "
                    "IF(i % 7 = 0, NULL, REPEAT(CONCAT(MD5(i), 'é'), 1 + i % 50)), "
                    "IF(i % 10 = 0, NULL, (i % 100000) / 100), 18446744073709551615 - i, "
                    "TIMESTAMP('2024-01-01') + INTERVAL i * 1000003 MICROSECOND FROM n"),
            "");
  std::string file =
      Export("parquet", "zstd", "SELECT * FROM rivet_e2e_mysql_big ORDER BY id", 30000);
  ASSERT_FALSE(file.empty());
  EXPECT_NE(last_err_.find("batch_size=4000"), std::string::npos) << last_err_;
  // Payloads are hashed one by one first: GROUP_CONCAT stops at max_allowed_packet (16 MiB).
  ASSERT_EQ(my.Exec("SET SESSION group_concat_max_len = 16777216"), "");
  std::vector<CsvRow> want = my.Query(
      "SELECT COUNT(*), SUM(id), COUNT(DISTINCT kind), COUNT(payload), SUM(CHAR_LENGTH(payload)), "
      "MD5(GROUP_CONCAT(MD5(IFNULL(payload, '-')) ORDER BY id SEPARATOR ',')), COUNT(amount), "
      "SUM(amount), MIN(big), MAX(big), "
      "SUM(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', seen_at)) FROM rivet_e2e_mysql_big");
  ASSERT_EQ(want.size(), 1u) << my.error();
  CommandResult got = DuckDbQuery(
      tools_,
      "SELECT count(*), sum(id), count(DISTINCT kind), count(payload), sum(length(payload)), "
      "md5(string_agg(md5(coalesce(payload, '-')), ',' ORDER BY id)), count(amount), sum(amount), "
      "min(big), max(big), sum(epoch_us(seen_at)) FROM '" +
          file + "'");
  ASSERT_EQ(got.exit_code, 0) << got.err;
  std::vector<std::string> lines = SplitLines(got.out);
  ASSERT_EQ(lines.size(), 1u) << got.out;
  json row = json::parse(lines[0]);
  ASSERT_EQ(row.size(), want[0].size());
  for (size_t c = 0; c < want[0].size(); ++c) EXPECT_EQ(row[c], *want[0][c]) << "aggregate " << c;
}

}  // namespace
}  // namespace rivet::testing
