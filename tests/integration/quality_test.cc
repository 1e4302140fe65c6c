// Quality gates end to end (guide §16, reference §1 and §4): the rivet binary against real
// PostgreSQL and MariaDB servers. Each gate passes at its boundary and fails one step past it
// with the guide's message; a failing export exits with the data-integrity class (3), shows
// `quality: FAIL`, delivers no file (local folder and S3 test server) and leaves no staged one,
// and its incremental cursor stays where it was. The uniqueness check finds one duplicate among
// 5M distinct values with memory well under what holding the keys would take.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/export_checks.h"
#include "support/s3_server.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

class QualityTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, GetParam().url_env);
    url_ = url;
    db_ = std::make_unique<SqlClient>(GetParam(), url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    if (pg()) {
      ASSERT_EQ(Sql("DROP SCHEMA IF EXISTS rivet_quality CASCADE; CREATE SCHEMA rivet_quality"),
                "");
    }
    // 100 orders: id 1..100, every 20th email NULL (ratio 0.05), code unique.
    ASSERT_EQ(Sql((pg() ? "" : "DROP TABLE IF EXISTS " + Table() + ";") + "CREATE TABLE " +
                  Table() + " (id BIGINT, email VARCHAR(64), code INT)"),
              "");
    ASSERT_EQ(Insert(1, 100), "");
    dir_ = MakeTempDir(std::string("quality-") + GetParam().name);
  }

  bool pg() const { return GetParam().postgres(); }
  std::string Table() const { return pg() ? "rivet_quality.orders" : "rivet_quality_orders"; }
  std::string Sql(const std::string& sql) { return db_->Exec(sql); }
  std::string Insert(int from, int to) {
    const std::string values =
        "g, CASE WHEN g % 20 = 0 THEN NULL ELSE CONCAT('user', g, '@example.com') END, g";
    return Sql(pg() ? fmt::format("INSERT INTO {} SELECT {} FROM generate_series({}, {}) g",
                                  Table(), values, from, to)
                    : fmt::format("INSERT INTO {} SELECT {} FROM (SELECT seq AS g FROM "
                                  "seq_{}_to_{}) s",
                                  Table(), values, from, to));
  }

  // One export `orders` of the test's table with `lines` (mode, quality, ...) to ./out.
  void WriteConfig(const std::string& lines, const std::string& format = "csv") {
    WriteFile(dir_ + "/rivet.yaml",
              fmt::format("source:\n  type: {}\n  url_env: RIVET_E2E_URL\n"
                          "exports:\n  - name: orders\n"
                          "    query: \"SELECT id, email, code FROM {}\"\n"
                          "    format: {}\n{}"
                          "    destination:\n      type: local\n      path: ./out\n",
                          GetParam().source_type, Table(), format, lines));
  }
  CommandResult Rivet(const std::string& args = "run") {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " TMPDIR=" + ShellQuote(dir_) + " " +
                      RIVET_BINARY + " " + args + " -c " + dir_ + "/rivet.yaml");
  }
  // Files in ./out; none may be a staged leftover.
  std::vector<std::string> Out() {
    std::vector<std::string> files = ListDir(dir_ + "/out");
    for (const std::string& f : files) {
      EXPECT_EQ(f.find(".rivet"), std::string::npos) << "staged file left: " << f;
    }
    return files;
  }
  // Nothing but the test's own files and rivet's state in the temporary folder (TMPDIR).
  void ExpectNoTemporaryFiles() {
    for (const std::string& f : ListDir(dir_)) {
      EXPECT_TRUE(f == "out" || f == "rivet.yaml" || f.rfind(".rivet_state.db", 0) == 0)
          << "left in TMPDIR: " << f;
    }
  }
  // A run that must fail its gates with `message`, delivering nothing.
  void ExpectFail(const std::string& quality_lines, const std::string& message) {
    SCOPED_TRACE(message);
    WriteConfig(quality_lines);
    const size_t before = Out().size();
    CommandResult r = Rivet();
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("quality FAIL: " + message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("quality:     FAIL"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("status:      failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("files:       0"), std::string::npos) << r.err;
    EXPECT_EQ(Out().size(), before);
    ExpectNoTemporaryFiles();
  }

  std::string url_;
  std::string dir_;
  std::unique_ptr<SqlClient> db_;
};

TEST_P(QualityTest, EachGatePassesAtItsBoundaryAndFailsOneStepPast) {
  WriteConfig(
      "    quality:\n      row_count_min: 100\n      row_count_max: 100\n"
      "      null_ratio_max: {email: 0.05, id: 0.0}\n      unique_columns: [id, code]\n");
  CommandResult r = Rivet();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("quality:     pass"), std::string::npos) << r.err;
  ASSERT_EQ(Out().size(), 1u);
  EXPECT_EQ(SplitLines(ReadFile(dir_ + "/out/" + Out()[0])).size(), 101u);  // header + rows
  ExpectNoTemporaryFiles();

  ExpectFail("    quality:\n      row_count_min: 101\n", "row_count 100 below minimum 101");
  ExpectFail("    quality:\n      row_count_max: 99\n", "row_count 100 exceeds maximum 99");
  ExpectFail("    quality:\n      null_ratio_max:\n        email: 0.04\n",
             "column 'email': null ratio 0.0500 exceeds threshold 0.0400");
  // Three more rows repeating ids 7, 7 and 42: the first repeat in row order is 7.
  ASSERT_EQ(
      Sql("INSERT INTO " + Table() + " VALUES (7, 'a', 1007), (7, 'b', 1008), (42, 'c', 1009)"),
      "");
  ExpectFail("    quality:\n      unique_columns: [code, id]\n",
             "column 'id': 3 duplicate values (first: 7)");

  // The failed runs are recorded as such, with their quality result.
  CommandResult metrics = Rivet("metrics");
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_NE(metrics.out.find("failed"), std::string::npos) << metrics.out;
}

TEST_P(QualityTest, AFailingIncrementalExportKeepsItsCursor) {
  WriteConfig(
      "    mode: incremental\n    cursor_column: id\n"
      "    quality:\n      unique_columns: [code]\n");
  CommandResult r = Rivet();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(CursorIn(dir_, "orders"), "100");
  // New rows, one repeating a code of its own batch: the gate sees only what this run exports.
  ASSERT_EQ(Insert(101, 110), "");
  ASSERT_EQ(Sql("INSERT INTO " + Table() + " VALUES (111, 'dup', 105)"), "");
  r = Rivet();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("column 'code': 1 duplicate values (first: 105)"), std::string::npos)
      << r.err;
  EXPECT_EQ(CursorIn(dir_, "orders"), "100");
  EXPECT_EQ(Out().size(), 1u);
  // Fixed at the source: the next run exports rows 101..111 and moves the cursor.
  ASSERT_EQ(Sql("UPDATE " + Table() + " SET code = 1111 WHERE id = 111"), "");
  r = Rivet();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rows:        11"), std::string::npos) << r.err;
  EXPECT_EQ(CursorIn(dir_, "orders"), "111");
  EXPECT_EQ(Out().size(), 2u);
}

TEST_P(QualityTest, ChunkedPartsAreHeldUntilEveryChunkIsChecked) {
  // A duplicate in the last chunk fails the export after the earlier chunks finished their
  // files: none of them may be delivered.
  ASSERT_EQ(Sql("UPDATE " + Table() + " SET code = 3 WHERE id = 95"), "");
  const std::string chunked =
      "    mode: chunked\n    chunk_column: id\n    chunk_size: 10\n    parallel: 2\n";
  ExpectFail(chunked + "    quality:\n      unique_columns: [code]\n",
             "column 'code': 1 duplicate values (first: 3)");
  ASSERT_EQ(Sql("UPDATE " + Table() + " SET code = 95 WHERE id = 95"), "");
  WriteConfig(chunked + "    quality:\n      unique_columns: [code]\n      row_count_min: 100\n");
  CommandResult r = Rivet();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Out().size(), 10u);
  EXPECT_NE(r.err.find("files:       10"), std::string::npos) << r.err;
  EXPECT_EQ(ManifestIn(dir_).size(), 10u);
}

TEST_P(QualityTest, AColumnNotInTheResultIsAConfigErrorNamingIt) {
  WriteConfig("    quality:\n      null_ratio_max: {emial: 0.1}\n");
  CommandResult r = Rivet();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("quality.null_ratio_max names column 'emial', which is not in the "
                       "query's result (columns: id, email, code)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(Out().empty());
  WriteConfig(
      "    mode: chunked\n    chunk_column: id\n    chunk_checkpoint: true\n"
      "    quality:\n      row_count_min: 1\n");
  r = Rivet();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot be combined with chunk_checkpoint"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, QualityTest, ::testing::Values(kPostgres, kMysql),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// On an object store a failing export leaves no object and no open multipart upload; a passing
// one delivers every part.
TEST(QualityS3Test, AFailingExportLeavesNoObjectAndNoUpload) {
  RIVET_REQUIRE_ENV(pg, "RIVET_TEST_PG_URL");
  RIVET_REQUIRE_ENV(endpoint, "RIVET_TEST_S3_ENDPOINT");
  RIVET_REQUIRE_ENV(backend, "RIVET_TEST_S3_BACKEND");
  SqlClient db(kPostgres, pg);
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_EQ(db.Exec("DROP SCHEMA IF EXISTS rivet_quality_s3 CASCADE; CREATE SCHEMA "
                    "rivet_quality_s3; " +
                    WideTableSql("rivet_quality_s3.wide", 150000)),
            "");
  S3Server s3(endpoint, backend, "rivet-test");
  const std::string prefix = TestObjectPrefix();
  const std::string dir = MakeTempDir("quality-s3");
  auto run = [&](const std::string& quality) {
    WriteFile(dir + "/rivet.yaml",
              fmt::format("source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
                          "exports:\n  - name: wide\n"
                          "    query: \"SELECT * FROM rivet_quality_s3.wide\"\n"
                          "    format: csv\n    max_file_size: 6MB\n"
                          "    quality:\n{}"
                          "    destination:\n      type: s3\n      bucket: rivet-test\n"
                          "      prefix: {}\n      endpoint: {}\n"
                          "      access_key_env: RIVET_TEST_S3_ACCESS_KEY\n"
                          "      secret_key_env: RIVET_TEST_S3_SECRET_KEY\n",
                          quality, prefix, endpoint));
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(pg) + " TMPDIR=" + ShellQuote(dir) + " " +
                      RIVET_BINARY + " run -c " + dir + "/rivet.yaml");
  };
  CommandResult r = run("      row_count_max: 149999\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("row_count 150000 exceeds maximum 149999"), std::string::npos) << r.err;
  EXPECT_TRUE(s3.Keys(prefix).empty());
  EXPECT_EQ(s3.Control("GET", "/__rivet/uploads", "").body, "{\"open\":[]}");

  r = run("      row_count_min: 150000\n      unique_columns: [id]\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> paths;
  for (const std::string& key : s3.Keys(prefix)) {
    EXPECT_EQ(key.find(".rivet-pending"), std::string::npos) << key;
    paths.push_back(dir + "/" + key.substr(key.rfind('/') + 1));
    WriteFile(paths.back(), s3.Object(key));
  }
  EXPECT_GT(paths.size(), 2u);  // several parts, each held then completed
  EXPECT_EQ(ManifestIn(dir).size(), paths.size());
  RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
  EXPECT_EQ(DuckDigest(tools, "read_csv([" + QuotedList(paths) + "])"),
            SourceDigest(pg, "rivet_quality_s3.wide"));
  EXPECT_EQ(s3.Control("GET", "/__rivet/uploads", "").body, "{\"open\":[]}");
}

// 5M distinct ids and one repeat: found exactly, and memory stays near the 64 MiB budget
// instead of the ~160 MB that holding every key in memory would take.
TEST(QualityUniqueTest, FiveMillionDistinctValuesAndOneDuplicateInBoundedMemory) {
  RIVET_REQUIRE_ENV(pg, "RIVET_TEST_PG_URL");
  SqlClient db(kPostgres, pg);
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_EQ(db.Exec("DROP SCHEMA IF EXISTS rivet_quality_big CASCADE; CREATE SCHEMA "
                    "rivet_quality_big; CREATE TABLE rivet_quality_big.ids AS SELECT g::bigint "
                    "AS id FROM generate_series(1, 5000000) g; INSERT INTO rivet_quality_big.ids "
                    "VALUES (4000000)"),
            "");
  const std::string dir = MakeTempDir("quality-big");
  WriteFile(dir + "/rivet.yaml",
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
            "exports:\n  - name: ids\n    query: \"SELECT id FROM rivet_quality_big.ids\"\n"
            "    quality:\n      unique_columns: [id]\n"
            "    destination:\n      type: local\n      path: ./out\n");
  CommandResult r =
      RunCommand("RIVET_LOG=info RIVET_E2E_URL=" + ShellQuote(pg) + " TMPDIR=" + ShellQuote(dir) +
                 " " + RIVET_BINARY + " run -c " + dir + "/rivet.yaml");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("column 'id': 1 duplicate values (first: 4000000)"), std::string::npos)
      << r.err;
  // The keys went to disk in sorted runs...
  EXPECT_EQ(r.err.find("unique_columns 'id': 0 sorted runs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sorted runs merged"), std::string::npos) << r.err;
  // ...and the process stayed well under the size of the keys held in memory.
  std::optional<int> rss = PeakRssMb(r.err);
  ASSERT_TRUE(rss.has_value()) << r.err;
  EXPECT_LT(*rss, 140) << r.err;
  EXPECT_TRUE(ListDir(dir + "/out").empty());
  db.Exec("DROP SCHEMA rivet_quality_big CASCADE");
}

}  // namespace
}  // namespace rivet::testing
