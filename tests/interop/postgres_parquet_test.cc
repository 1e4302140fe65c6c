// PostgreSQL -> rivet Parquet -> independent readers (DuckDB and hyparquet): every value of the
// type matrix compared with the source, every logical type checked in DuckDB's DESCRIBE, for
// every codec; plus a file of several row groups with kept and fallen-back dictionaries.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/pg_client.h"
#include "support/pg_types_fixture.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using nlohmann::json;

// Each column in the canonical text of tools/read-parquet.mjs, computed by PostgreSQL.
constexpr const char* kCanonical = R"sql(
SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601';
CREATE OR REPLACE FUNCTION pg_temp.f8hex(x float8) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN x = 'NaN' THEN 'NaN' WHEN x = 'Infinity' THEN 'Infinity'
              WHEN x = '-Infinity' THEN '-Infinity' ELSE '0x' || encode(float8send(x), 'hex') END $$;
SELECT json_build_array(id::text, b, i2::text, i4::text, i8::text, o::text,
  pg_temp.f8hex(f4::float8), pg_temp.f8hex(f8), n12::text, n38::text, n38s::text, nfree::text,
  t, vc, bp::text || repeat(' ', 3 - length(bp)), nm::text, encode(by, 'hex'),
  (d - '1970-01-01'::date)::text, (extract(epoch FROM tm) * 1000000)::bigint::text,
  (extract(epoch FROM ts) * 1000000)::bigint::text, (extract(epoch FROM tstz) * 1000000)::bigint::text,
  u::text, j::text, jb::text, iv::text, mood::text,
  CASE WHEN ia IS NOT NULL THEN coalesce((SELECT json_agg(x::text ORDER BY o) FROM unnest(ia) WITH ORDINALITY AS e(x, o)), '[]') END,
  CASE WHEN ta IS NOT NULL THEN coalesce((SELECT json_agg(x ORDER BY o) FROM unnest(ta) WITH ORDINALITY AS e(x, o)), '[]') END,
  CASE WHEN ip IS NOT NULL THEN format('%s', ip) END, r::text)::text
FROM rivet_e2e_types ORDER BY id
)sql";

// DuckDB's DESCRIBE type of each column, in table order.
const std::vector<std::string> kDuckDbTypes = {
    "INTEGER", "BOOLEAN", "SMALLINT", "INTEGER", "BIGINT", "BIGINT", "FLOAT", "DOUBLE",
    "DECIMAL(12,2)", "DECIMAL(38,0)", "DECIMAL(38,10)", "VARCHAR", "VARCHAR", "VARCHAR",
    "VARCHAR", "VARCHAR", "BLOB", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "UUID",
    "JSON", "JSON", "VARCHAR", "VARCHAR", "INTEGER[]", "VARCHAR[]", "VARCHAR", "VARCHAR"};

class PostgresParquetTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto url = EnvVar("RIVET_TEST_PG_URL");
    auto tools = EnvVar("RIVET_TEST_TOOLS");
    if (!url || !tools) {
      if (InCi()) FAIL() << "RIVET_TEST_PG_URL / RIVET_TEST_TOOLS are not set";
      GTEST_SKIP() << "RIVET_TEST_PG_URL / RIVET_TEST_TOOLS are not set: use scripts/test.sh";
    }
    url_ = *url;
    tools_ = *tools;
    PgClient pg(url_);
    ASSERT_TRUE(pg.ok()) << pg.error();
    ASSERT_EQ(pg.Exec(kPgTypesSetup), "");
    dir_ = MakeTempDir("pg-parquet");
  }

  // Exports `query` to Parquet with `compression` and returns the one file written.
  std::string Export(const std::string& query, const std::string& compression) {
    std::string config = dir_ + "/rivet.yaml";
    WriteFile(config, "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
                      "  tuning:\n    profile: fast\nexports:\n  - name: pq\n    query: \"" +
                          query + "\"\n    compression: " + compression +
                          "\n    destination:\n      type: local\n      path: out\n");
    CommandResult r = RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY +
                                 " run --validate -c " + config);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("validated:   pass"), std::string::npos) << r.err;
    std::vector<std::string> files = ListDir(dir_ + "/out");
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? "" : dir_ + "/out/" + files[0];
  }

  CommandResult Read(const std::string& reader, const std::string& file) {
    return ReadParquet(tools_, reader, file);
  }

  std::vector<std::string> DuckDb(const std::string& sql) {
    CommandResult r = DuckDbQuery(tools_, sql);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return SplitLines(r.out);
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
};

TEST_P(PostgresParquetTest, EveryTypeReadsBackExactlyInTwoReaders) {
  std::string file = Export("SELECT * FROM rivet_e2e_types ORDER BY id", GetParam());
  ASSERT_FALSE(file.empty());
  PgClient pg(url_);
  std::vector<CsvRow> expected = pg.Query(kCanonical);
  ASSERT_EQ(expected.size(), 5u) << pg.error();
  std::vector<CsvRow> names = pg.Query(
      "SELECT attname FROM pg_attribute WHERE attrelid = 'rivet_e2e_types'::regclass AND "
      "attnum > 0 ORDER BY attnum");
  ASSERT_EQ(names.size(), kDuckDbTypes.size());

  for (std::string reader : {"duckdb", "hyparquet"}) {
    SCOPED_TRACE(reader);
    CommandResult r = Read(reader, file);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = SplitLines(r.out);
    ASSERT_EQ(lines.size(), expected.size() + 1) << r.out;
    json header = json::parse(lines[0]);
    ASSERT_EQ(header["columns"].size(), names.size());
    for (size_t c = 0; c < names.size(); ++c) {
      EXPECT_EQ(header["columns"][c]["name"], *names[c][0]);
      if (reader == "duckdb") {
        EXPECT_EQ(header["columns"][c]["type"], kDuckDbTypes[c]) << *names[c][0];
      }
    }
    for (size_t row = 0; row < expected.size(); ++row) {
      json want = json::parse(*expected[row][0]);
      json got = json::parse(lines[row + 1]);
      ASSERT_EQ(got.size(), want.size());
      for (size_t c = 0; c < want.size(); ++c) {
        // JSON documents are compared as text: both sides hold the text PostgreSQL printed.
        EXPECT_EQ(got[c], want[c]) << "row id " << want[0] << ", column " << *names[c][0];
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, PostgresParquetTest,
                         ::testing::Values("zstd", "snappy", "gzip", "lz4", "none"));

class PostgresParquetShapes : public PostgresParquetTest {};

TEST_F(PostgresParquetShapes, ZeroRowsCarryTheSchema) {
  std::string file = Export("SELECT * FROM rivet_e2e_types WHERE false", "zstd");
  ASSERT_FALSE(file.empty());
  CommandResult r = Read("duckdb", file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  json header = json::parse(lines[0]);
  ASSERT_EQ(header["columns"].size(), kDuckDbTypes.size());
  for (size_t c = 0; c < kDuckDbTypes.size(); ++c) {
    EXPECT_EQ(header["columns"][c]["type"], kDuckDbTypes[c]);
  }
}

TEST_F(PostgresParquetShapes, ManyRowGroupsAndPagesWithKeptAndFallenBackDictionaries) {
  PgClient pg(url_);
  ASSERT_EQ(pg.Exec("DROP TABLE IF EXISTS rivet_e2e_big; CREATE TABLE rivet_e2e_big AS "
                    "SELECT i AS id, (ARRAY['view','click','buy','share'])[1 + i % 4] AS kind, "
                    "md5(i::text) || md5((i * 7)::text) AS payload, "
                    "(CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 100000)::numeric / 100 END)::numeric(12,2) AS amount "
                    "FROM generate_series(1::bigint, 1200000::bigint) AS i"),
            "");
  std::string file = Export("SELECT * FROM rivet_e2e_big ORDER BY id", "zstd");
  ASSERT_FALSE(file.empty());
  std::vector<CsvRow> want = pg.Query(
      "SELECT count(*)::text, sum(id)::text, count(DISTINCT kind)::text, min(payload), "
      "max(payload), count(amount)::text, sum(amount)::text, md5(string_agg(payload, ',' ORDER BY id)) "
      "FROM rivet_e2e_big");
  ASSERT_EQ(want.size(), 1u) << pg.error();
  std::vector<std::string> got = DuckDb(
      "SELECT count(*), sum(id), count(DISTINCT kind), min(payload), max(payload), "
      "count(amount), sum(amount), md5(string_agg(payload, ',' ORDER BY id)) FROM '" + file + "'");
  ASSERT_EQ(got.size(), 1u);
  json row = json::parse(got[0]);
  for (size_t c = 0; c < want[0].size(); ++c) EXPECT_EQ(row[c], *want[0][c]) << "aggregate " << c;
  // More than 1,048,576 rows make at least two row groups (of ~1 MiB pages: 77 MB of payload).
  std::vector<std::string> groups = DuckDb(
      "SELECT count(DISTINCT row_group_id), count(*) FROM parquet_metadata('" + file + "')");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_GE(std::stoi(json::parse(groups[0])[0].get<std::string>()), 2);
}

TEST_F(PostgresParquetShapes, MaxFileSizeSplitsIntoCompleteParts) {
  PgClient pg(url_);
  ASSERT_EQ(pg.Exec("DROP TABLE IF EXISTS rivet_e2e_split; CREATE TABLE rivet_e2e_split AS "
                    "SELECT i AS id, md5(i::text) AS h FROM generate_series(1::bigint, 200000::bigint) AS i"),
            "");
  std::string config = dir_ + "/split.yaml";
  WriteFile(config,
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
            "  tuning:\n    profile: fast\n    batch_size: 10000\nexports:\n"
            "  - name: split\n    query: \"SELECT * FROM rivet_e2e_split ORDER BY id\"\n"
            "    compression: none\n    max_file_size: 1MB\n"
            "    destination:\n      type: local\n      path: parts\n");
  CommandResult r = RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY +
                               " run --validate -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> files = ListDir(dir_ + "/parts");
  ASSERT_GE(files.size(), 3u);
  EXPECT_NE(r.err.find("files:       " + std::to_string(files.size())), std::string::npos) << r.err;
  for (size_t i = 0; i < files.size(); ++i) {
    // Names sort as text: find each part by its index instead of by position.
    std::string suffix = "_part" + std::to_string(i) + ".parquet";
    bool found = false;
    for (const std::string& f : files) {
      found = found || (f.size() > suffix.size() &&
                        f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0);
    }
    EXPECT_TRUE(found) << suffix;
  }
  // Every part is a complete file; together they hold every row once.
  std::vector<std::string> got = DuckDb("SELECT count(*), count(DISTINCT id), sum(id), count(DISTINCT filename) "
                                        "FROM read_parquet('" + dir_ + "/parts/*.parquet', filename = true)");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "[\"200000\",\"200000\",\"20000100000\",\"" + std::to_string(files.size()) + "\"]");
  // Each part is recorded in the manifest.
  CommandResult manifest = RunCommand(std::string(RIVET_BINARY) + " state files -c " + config);
  ASSERT_EQ(manifest.exit_code, 0) << manifest.err;
  for (const std::string& f : files) EXPECT_NE(manifest.out.find(f), std::string::npos) << f;
}

TEST_F(PostgresParquetShapes, SkipEmptyWritesNoFile) {
  std::string config = dir_ + "/skip.yaml";
  WriteFile(config, "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\nexports:\n"
                    "  - name: nothing\n    query: \"SELECT * FROM rivet_e2e_types WHERE false\"\n"
                    "    skip_empty: true\n    destination:\n      type: local\n      path: none\n");
  CommandResult r = RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY +
                               " run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("status:      skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("files:       0"), std::string::npos) << r.err;
  EXPECT_TRUE(ListDir(dir_ + "/none").empty());
}

}  // namespace
}  // namespace rivet::testing
