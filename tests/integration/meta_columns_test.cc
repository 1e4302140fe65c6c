// Meta columns end to end: _rivet_exported_at and _rivet_row_hash written by the rivet binary
// and read back with DuckDB. The same rows hash the same in Parquet and CSV, across runs,
// chunked or not, and from PostgreSQL or MariaDB; the guide's dedup query keeps each source row
// once over overlapping exports; a query column named _rivet_* is refused.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

class MetaColumnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    url_ = url;
    tools_ = tools;
    db_ = std::make_unique<SqlClient>(kPostgres, url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    ASSERT_EQ(db_->Exec("DROP SCHEMA IF EXISTS rivet_meta CASCADE; CREATE SCHEMA rivet_meta;"
                        "CREATE TABLE rivet_meta.t (id bigint PRIMARY KEY, name text, note text,"
                        " amount numeric(12,2), seen_at timestamptz, flag boolean);"
                        "INSERT INTO rivet_meta.t SELECT g, 'n' || g,"
                        " CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('x', g % 5) END,"
                        " g * 1.25, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour',"
                        " g % 2 = 0 FROM generate_series(1, 200) g"),
              "");
    dir_ = MakeTempDir("meta-columns");
  }

  // One export per entry of `exports` (name, extra YAML lines), all of table rivet_meta.t.
  void WriteConfig(const std::string& exports) {
    WriteFile(dir_ + "/rivet.yaml",
              "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\nexports:\n" + exports);
  }
  static std::string Export(const std::string& name, const std::string& query,
                            const std::string& format, const std::string& extra = "") {
    return fmt::format(
        "  - name: {}\n    query: \"{}\"\n    format: {}\n"
        "    meta_columns: {{exported_at: true, row_hash: true}}\n{}"
        "    destination: {{type: local, path: {}}}\n",
        name, query, format, extra, name);
  }
  CommandResult Rivet(const std::string& args) {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY + " " + args +
                      " -c " + dir_ + "/rivet.yaml");
  }
  // DuckDB rows of `sql`, one JSON array per line (BIGINTs come as strings).
  std::vector<std::string> Duck(const std::string& sql) {
    CommandResult r = DuckDbQuery(tools_, sql);
    EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << sql;
    return SplitLines(r.out);
  }
  std::string Files(const std::string& out, const std::string& ext) const {
    return "'" + dir_ + "/" + out + "/*." + ext + "'";
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
  std::unique_ptr<SqlClient> db_;
};

constexpr const char* kAll = "SELECT id, name, note, amount, seen_at, flag FROM rivet_meta.t";

TEST_F(MetaColumnsTest, ParquetAndCsvCarryTheSameHashesAfterTheQueryColumns) {
  WriteConfig(Export("pq", kAll, "parquet") + Export("csv", kAll, "csv"));
  CommandResult r = Rivet("run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> columns =
      Duck("SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(" +
           Files("pq", "parquet") + "))");
  ASSERT_EQ(columns.size(), 8u);
  EXPECT_EQ(columns[6], "[\"_rivet_exported_at\"]");
  EXPECT_EQ(columns[7], "[\"_rivet_row_hash\"]");
  EXPECT_EQ(Duck("SELECT column_type FROM (DESCRIBE SELECT _rivet_exported_at, _rivet_row_hash "
                 "FROM read_parquet(" +
                 Files("pq", "parquet") + "))"),
            (std::vector<std::string>{"[\"TIMESTAMP WITH TIME ZONE\"]", "[\"BIGINT\"]"}));
  const std::string csv_header =
      SplitLines(ReadFile(dir_ + "/csv/" + ListDir(dir_ + "/csv")[0]))[0];
  EXPECT_TRUE(csv_header.ends_with("flag,_rivet_exported_at,_rivet_row_hash")) << csv_header;

  std::vector<std::string> pq = Duck("SELECT id, _rivet_row_hash::VARCHAR FROM read_parquet(" +
                                     Files("pq", "parquet") + ") ORDER BY id");
  std::vector<std::string> csv = Duck("SELECT id, _rivet_row_hash::VARCHAR FROM read_csv(" +
                                      Files("csv", "csv") + ") ORDER BY id");
  ASSERT_EQ(pq.size(), 200u);
  EXPECT_EQ(pq, csv);
  EXPECT_EQ(Duck("SELECT count(DISTINCT _rivet_row_hash) FROM read_parquet(" +
                 Files("pq", "parquet") + ")"),
            std::vector<std::string>{"[\"200\"]"});
}

TEST_F(MetaColumnsTest, TwoRunsSameHashesAndEachRunItsOwnExportedAt) {
  WriteConfig(Export("pq", kAll, "parquet"));
  ASSERT_EQ(Rivet("run").exit_code, 0);
  ASSERT_EQ(Rivet("run").exit_code, 0);
  std::vector<std::string> files = ListDir(dir_ + "/pq");
  ASSERT_EQ(files.size(), 2u);
  std::vector<std::vector<std::string>> hashes;
  std::vector<std::string> stamps;
  for (const std::string& f : files) {
    const std::string path = "'" + dir_ + "/pq/" + f + "'";
    hashes.push_back(
        Duck("SELECT id, _rivet_row_hash FROM read_parquet(" + path + ") ORDER BY id"));
    std::vector<std::string> at =
        Duck("SELECT DISTINCT epoch_us(_rivet_exported_at) FROM read_parquet(" + path + ")");
    ASSERT_EQ(at.size(), 1u) << "exported_at is not constant within a run";
    stamps.push_back(at[0]);
  }
  EXPECT_EQ(hashes[0].size(), 200u);
  EXPECT_EQ(hashes[0], hashes[1]);
  EXPECT_NE(stamps[0], stamps[1]);
}

TEST_F(MetaColumnsTest, ChunkedAndFullGiveTheSameHashes) {
  WriteConfig(Export("full", kAll, "parquet") +
              Export("chunked", kAll, "parquet",
                     "    mode: chunked\n    chunk_column: id\n    chunk_size: 30\n"
                     "    parallel: 2\n"));
  CommandResult r = Rivet("run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(ListDir(dir_ + "/chunked").size(), 1u);
  const std::string q = "SELECT _rivet_row_hash FROM read_parquet({}) ORDER BY 1";
  std::vector<std::string> full = Duck(fmt::format(fmt::runtime(q), Files("full", "parquet")));
  ASSERT_EQ(full.size(), 200u);
  EXPECT_EQ(full, Duck(fmt::format(fmt::runtime(q), Files("chunked", "parquet"))));
}

TEST_F(MetaColumnsTest, GuideDedupQueryKeepsEachSourceRowOnce) {
  WriteConfig(Export("first", std::string(kAll) + " WHERE id <= 120", "parquet") +
              Export("second", std::string(kAll) + " WHERE id > 80", "parquet"));
  CommandResult r = Rivet("run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string both =
      "read_parquet([" + Files("first", "parquet") + ", " + Files("second", "parquet") + "])";
  EXPECT_EQ(Duck("SELECT count(*) FROM " + both), std::vector<std::string>{"[\"240\"]"});
  EXPECT_EQ(
      Duck("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM (SELECT * FROM " + both +
           " QUALIFY ROW_NUMBER() OVER (PARTITION BY _rivet_row_hash ORDER BY "
           "_rivet_exported_at DESC) = 1)"),
      std::vector<std::string>{"[\"200\",\"200\",\"1\",\"200\"]"});
}

TEST_F(MetaColumnsTest, AQueryColumnNamedLikeAMetaColumnIsRefused) {
  WriteConfig(Export("clash", "SELECT id, name AS _rivet_name FROM rivet_meta.t", "csv"));
  CommandResult r = Rivet("run");
  EXPECT_NE(r.exit_code, 0);
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("export 'clash': query column '_rivet_name'"), std::string::npos) << all;
  EXPECT_NE(all.find("alias it in the query or turn meta_columns off"), std::string::npos) << all;
  EXPECT_TRUE(ListDir(dir_ + "/clash").empty());
}

TEST_F(MetaColumnsTest, MariaDbHashesTheSameValuesLikePostgres) {
  RIVET_REQUIRE_ENV(mysql_url, "RIVET_TEST_MYSQL_URL");
  SqlClient my(kMysql, mysql_url);
  ASSERT_TRUE(my.ok()) << my.error();
  ASSERT_EQ(my.Exec("DROP TABLE IF EXISTS rivet_meta_same; CREATE TABLE rivet_meta_same (id "
                    "bigint, name varchar(20), note varchar(20)); INSERT INTO rivet_meta_same "
                    "VALUES (42, 'ab', NULL), (7, '', 'z')"),
            "");
  ASSERT_EQ(db_->Exec("CREATE TABLE rivet_meta.same (id bigint, name varchar(20), note "
                      "varchar(20)); INSERT INTO rivet_meta.same VALUES (42, 'ab', NULL), "
                      "(7, '', 'z')"),
            "");
  const std::string q = "SELECT id, name, note FROM {} ORDER BY id";
  WriteConfig(Export("pg", fmt::format(fmt::runtime(q), "rivet_meta.same"), "parquet"));
  ASSERT_EQ(Rivet("run").exit_code, 0);
  WriteFile(dir_ + "/my.yaml",
            "source:\n  type: mysql\n  url_env: RIVET_E2E_URL\nexports:\n" +
                Export("my", fmt::format(fmt::runtime(q), "rivet_meta_same"), "parquet"));
  CommandResult r = RunCommand("RIVET_E2E_URL=" + ShellQuote(mysql_url) + " " + RIVET_BINARY +
                               " run -c " + dir_ + "/my.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string read = "SELECT id, _rivet_row_hash FROM read_parquet({}) ORDER BY id";
  std::vector<std::string> pg = Duck(fmt::format(fmt::runtime(read), Files("pg", "parquet")));
  // (42, 'ab', NULL) is the worked example of docs/row-hash.md: 0x79beec5a5aca657a.
  ASSERT_EQ(pg.size(), 2u);
  EXPECT_EQ(pg[1], "[\"42\",\"8772708996978730362\"]");
  EXPECT_EQ(pg, Duck(fmt::format(fmt::runtime(read), Files("my", "parquet"))));
}

}  // namespace
}  // namespace rivet::testing
