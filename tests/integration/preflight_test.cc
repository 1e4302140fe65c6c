// `rivet check` and `rivet doctor` through the binary, on PostgreSQL and MariaDB: a 2M-row
// table with and without an index on its key in every mode, a stored cursor, a sparse chunk
// column, a parallel above the free connections, broken queries; doctor with good and bad
// credentials for the source, a local folder, S3 and GCS. check must never read table data.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/s3_server.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kRows = 2'000'000;

class PreflightTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    auto url = EnvVar(GetParam().url_env);
    if (!url) {
      if (InCi()) FAIL() << GetParam().url_env << " is not set: the test server is missing";
      GTEST_SKIP() << GetParam().url_env << " is not set: start the servers with scripts/test.sh";
    }
    url_ = *url;
    db_ = std::make_unique<SqlClient>(GetParam(), url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    ASSERT_NO_FATAL_FAILURE(CreateTables());
    dir_ = MakeTempDir(std::string("preflight-") + GetParam().name);
  }

  bool pg() const { return GetParam().postgres(); }
  std::string Table(const std::string& name) const {
    return pg() ? "rivet_preflight." + name : "rivet_preflight_" + name;
  }

  // idx: id primary key and an index on created_at; plain: the same rows, no index; sparse:
  // 20K keys spread over 20M. Made once: MariaDB keeps them, PostgreSQL's schema too.
  void CreateTables() {
    // Never a scan of `plain`: CheckReadsNoTableData counts those. sparse is made last.
    if (db_->Scalar("SELECT count(*) FROM " + Table("idx")) == std::to_string(kRows) &&
        db_->Scalar("SELECT count(*) FROM " + Table("sparse")) == "20000") {
      return;
    }
    const std::string series = pg() ? fmt::format("generate_series(1, {}) AS s(g)", kRows)
                                    : fmt::format("(SELECT seq AS g FROM seq_1_to_{}) s", kRows);
    const std::string ts = pg() ? "timestamptz" : "datetime(6)";
    // One row per minute back from now: a time window of 3 days holds ~4K rows.
    const std::string created =
        pg() ? "now() - g * interval '1 minute'" : "UTC_TIMESTAMP(6) - INTERVAL g MINUTE";
    const std::string v = pg() ? "md5(g::text)" : "md5(g)";
    std::string sql;
    if (pg()) {
      sql = "DROP SCHEMA IF EXISTS rivet_preflight CASCADE; CREATE SCHEMA rivet_preflight;";
    } else {
      sql = fmt::format("DROP TABLE IF EXISTS {0}, {1}, {2};", Table("idx"), Table("plain"),
                        Table("sparse"));
    }
    sql += fmt::format(
        "CREATE TABLE {0} (id bigint PRIMARY KEY, created_at {1}, v varchar(64));"
        "INSERT INTO {0} SELECT g, {2}, {3} FROM {4};"
        "CREATE INDEX rivet_preflight_created ON {0} (created_at);"
        "CREATE TABLE {5} (id bigint, created_at {1}, v varchar(64));"
        "INSERT INTO {5} SELECT * FROM {0};"
        "CREATE TABLE {6} (id bigint PRIMARY KEY, v varchar(8));"
        "INSERT INTO {6} SELECT g * 1000, 'x' FROM {7};",
        Table("idx"), ts, created, v, series, Table("plain"), Table("sparse"),
        pg() ? "generate_series(1, 20000) AS s(g)" : "(SELECT seq AS g FROM seq_1_to_20000) s");
    sql += pg() ? fmt::format("ANALYZE {}; ANALYZE {}; ANALYZE {};", Table("idx"), Table("plain"),
                              Table("sparse"))
                : fmt::format("ANALYZE TABLE {}, {}, {};", Table("idx"), Table("plain"),
                              Table("sparse"));
    ASSERT_EQ(db_->Exec(sql), "");
  }

  void WriteConfig(const std::string& exports, const std::string& top = "") {
    WriteFile(dir_ + "/rivet.yaml",
              fmt::format("source:\n  type: {}\n  url_env: RIVET_PRE_URL\n{}exports:\n{}",
                          GetParam().source_type, top, exports));
  }
  // One export of `table` in `mode` lines, to CSV in ./out.
  std::string Export(const std::string& name, const std::string& table,
                     const std::string& mode_lines) {
    return fmt::format(
        "  - name: {}\n    query: \"SELECT * FROM {}\"\n{}"
        "    format: csv\n    destination: {{type: local, path: ./out}}\n",
        name, Table(table), mode_lines);
  }
  CommandResult Rivet(const std::string& args, const std::string& url = "") {
    return RunCommand("RIVET_PRE_URL=" + ShellQuote(url.empty() ? url_ : url) + " " + RIVET_BINARY +
                      " " + args + " -c " + dir_ + "/rivet.yaml");
  }
  // `rivet check --json`: the export named `name`.
  json CheckJson(const std::string& name) {
    CommandResult r = Rivet("check --json -e " + name);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    json doc = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << r.out;
    if (doc.is_discarded() || !doc.contains("exports") || doc["exports"].empty()) return json();
    return doc["exports"][0];
  }

  std::string url_, dir_;
  std::unique_ptr<SqlClient> db_;
};

const std::string kIncremental = "    mode: incremental\n    cursor_column: id\n";
const std::string kChunked4 =
    "    mode: chunked\n    chunk_column: id\n    chunk_size: 100000\n    parallel: 4\n";

TEST_P(PreflightTest, EveryModeWithAndWithoutAnIndex) {
  WriteConfig(Export("full_idx", "idx", "") + Export("inc_idx", "idx", kIncremental) +
              Export("inc_plain", "plain", kIncremental) + Export("chunk_idx", "idx", kChunked4) +
              Export("chunk_plain", "plain", kChunked4) +
              Export("tw_idx", "idx",
                     "    mode: time_window\n    time_column: created_at\n    days_window: 3\n"));

  json full = CheckJson("full_idx");
  EXPECT_EQ(full["strategy"], "full-scan");
  EXPECT_GE(full["row_estimate"].get<int64_t>(), kRows / 2);
  EXPECT_LE(full["row_estimate"].get<int64_t>(), kRows * 2);
  EXPECT_EQ(full["index_used"], false);
  EXPECT_EQ(full["verdict"], "UNSAFE");  // 2M rows, no index, no cursor
  EXPECT_EQ(full["recommended_profile"], "safe");
  EXPECT_EQ(full["parallelism"]["value"], 1);

  json inc = CheckJson("inc_idx");
  EXPECT_EQ(inc["strategy"], "incremental(id)");
  EXPECT_EQ(inc["cursor_range"], fmt::format("1 .. {}", kRows));
  EXPECT_EQ(inc["key_indexed"], true);
  EXPECT_EQ(inc["verdict"], "EFFICIENT");
  EXPECT_EQ(inc["recommended_profile"], "balanced");

  json inc_plain = CheckJson("inc_plain");
  EXPECT_EQ(inc_plain["key_indexed"], false);
  EXPECT_NE(inc_plain["cursor_range"].get<std::string>().find("skipped"), std::string::npos);
  EXPECT_EQ(inc_plain["verdict"], "DEGRADED");
  EXPECT_EQ(inc_plain["recommended_profile"], "safe");
  EXPECT_NE(inc_plain["scan_type"].get<std::string>().find(pg() ? "Seq Scan" : "ALL on"),
            std::string::npos)
      << inc_plain["scan_type"];
  EXPECT_NE(inc_plain["warnings"].dump().find("Unindexed cursor column 'id'"), std::string::npos);

  json chunk = CheckJson("chunk_idx");
  EXPECT_EQ(chunk["strategy"], "chunked-parallel(id, size=100000, p=4)");
  EXPECT_EQ(chunk["verdict"], "EFFICIENT");
  EXPECT_EQ(chunk["parallelism"]["value"], 4);
  EXPECT_EQ(chunk["connections"], 5);
  const std::string chunk_scan = chunk["scan_type"];
  EXPECT_TRUE(chunk_scan.find(pg() ? "Index" : "range on") != std::string::npos ||
              chunk_scan.find("Bitmap Heap Scan") != std::string::npos)
      << chunk_scan;
  EXPECT_NE(chunk["explained_sql"].get<std::string>().find("100000"), std::string::npos);

  json chunk_plain = CheckJson("chunk_plain");
  EXPECT_EQ(chunk_plain["verdict"], "DEGRADED");
  EXPECT_EQ(chunk_plain["parallelism"]["value"], 2);  // unindexed, not above 5M

  json tw = CheckJson("tw_idx");
  EXPECT_EQ(tw["strategy"], "time-window(created_at, 3d)");
  EXPECT_EQ(tw["index_used"], true) << tw["scan_type"];
  EXPECT_EQ(tw["verdict"], "ACCEPTABLE");  // an index, no cursor
  EXPECT_LT(tw["row_estimate"].get<int64_t>(), 100'000);

  // The text report carries the same facts in the layout of the reference.
  CommandResult text = Rivet("check -e inc_plain");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Export: inc_plain\n  Strategy:     incremental(id)\n"
                          "  Mode:         incremental (cursor: id)\n  Row estimate: ~"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("  Verdict:      DEGRADED\n"), std::string::npos);
  EXPECT_NE(text.out.find("  Parallelism:  1 (only chunked mode benefits from parallelism)\n"),
            std::string::npos);
}

TEST_P(PreflightTest, TheStoredCursorIsWhatTheNextRunWouldSend) {
  WriteConfig(Export("inc_sparse", "sparse", kIncremental));
  CommandResult run = Rivet("run");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json inc = CheckJson("inc_sparse");
  EXPECT_NE(inc["explained_sql"].get<std::string>().find("> 20000000"), std::string::npos)
      << inc["explained_sql"];
  EXPECT_LT(inc["row_estimate"].get<int64_t>(), 1000);
  EXPECT_EQ(inc["verdict"], "EFFICIENT");
}

TEST_P(PreflightTest, SparseKeysAndTooFewConnectionsAreWarned) {
  WriteConfig(Export("sparse", "sparse",
                     "    mode: chunked\n    chunk_column: id\n    chunk_size: 1000\n") +
              Export("wide", "idx",
                     "    mode: chunked\n    chunk_column: id\n    chunk_size: 100000\n"
                     "    parallel: 400\n"));
  json sparse = CheckJson("sparse");
  EXPECT_NE(sparse["warnings"].dump().find("Sparse key range"), std::string::npos) << sparse;
  json wide = CheckJson("wide");
  EXPECT_NE(wide["warnings"].dump().find("Connection limit: the run opens 401 connections"),
            std::string::npos)
      << wide["warnings"];
  EXPECT_EQ(sparse["warnings"].dump().find("Connection limit"), std::string::npos);
}

TEST_P(PreflightTest, ABrokenQueryOrAMissingTableFailsClearly) {
  WriteConfig(
      "  - name: missing\n    query: \"SELECT * FROM rivet_preflight_nope\"\n"
      "    destination: {type: local, path: ./out}\n"
      "  - name: syntax\n    query: \"SELEC id FROM x\"\n"
      "    destination: {type: local, path: ./out}\n" +
      Export("no_column", "idx", "    mode: incremental\n    cursor_column: nope\n") +
      Export("fine", "idx", ""));
  CommandResult r = Rivet("check");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("Export: missing\n  Error:        "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rivet_preflight_nope"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Export: syntax\n  Error:        "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cursor_column 'nope' is not a column"), std::string::npos) << r.out;
  // The other exports are still judged.
  EXPECT_NE(r.out.find("Export: fine\n  Strategy:     full-scan"), std::string::npos) << r.out;
}

TEST_P(PreflightTest, CheckReadsNoTableData) {
  if (!pg()) GTEST_SKIP() << "pg_stat_user_tables is PostgreSQL's";
  WriteConfig(Export("full", "plain", "") + Export("inc", "plain", kIncremental) +
              Export("chunk", "plain", kChunked4));
  // Rows read by sequential scans of `plain`. Statistics reach the shared counters within a
  // second of a backend going idle.
  auto reads = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return db_->Scalar(
        "SELECT seq_tup_read FROM pg_stat_user_tables WHERE schemaname = 'rivet_preflight' AND "
        "relname = 'plain'");
  };
  const std::string before = reads();
  CommandResult r = Rivet("check");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(reads(), before);
  // The counter does move when the table is read: the comparison above can fail.
  SqlClient other(GetParam(), url_);
  ASSERT_EQ(other.Scalar("SELECT count(*) FROM " + Table("plain")), std::to_string(kRows));
  EXPECT_NE(reads(), before);
}

TEST_P(PreflightTest, DoctorPassesAndLeavesNothingBehind) {
  WriteConfig(Export("a", "idx", "") + Export("b", "plain", ""));
  CommandResult r = Rivet("doctor");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rivet doctor: verifying auth for config"), std::string::npos);
  EXPECT_NE(r.out.find("[OK]  Config parsed successfully\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(fmt::format("[OK]  Source auth ({})", pg() ? "Postgres" : "MySQL")),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("SELECT allowed for 2 of 2 export queries"), std::string::npos);
  // Both exports write to ./out: one probe.
  size_t destinations = 0;
  for (const std::string& line : SplitLines(r.out)) {
    if (line.starts_with("[OK]  Destination Local(./out)")) ++destinations;
  }
  EXPECT_EQ(destinations, 1u) << r.out;
  EXPECT_NE(r.out.find("All checks passed.\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/out")) << "doctor left the folder it probed";
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"rivet.yaml"});

  CommandResult j = Rivet("doctor --json");
  EXPECT_EQ(j.exit_code, 0);
  json doc = json::parse(j.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.out;
  EXPECT_EQ(doc["ok"], true);
}

TEST_P(PreflightTest, DoctorFailsOnAWrongPasswordAndAnUnwritableFolder) {
  const char* pw_env = pg() ? "RIVET_TEST_PG_PW_URL" : "RIVET_TEST_MYSQL_PW_URL";
  RIVET_REQUIRE_ENV(pw_url, pw_env);
  const std::string wrong = "wrong-pass-Zq81";
  const std::string bad_url = std::string(pw_url).replace(pw_url.find("s3cret-pw"), 9, wrong);
  WriteFile(dir_ + "/afile", "not a folder");
  WriteConfig(
      fmt::format("  - name: a\n    query: \"SELECT 1 AS x\"\n"
                  "    destination: {{type: local, path: ./afile/out}}\n"));
  CommandResult r = Rivet("doctor", bad_url);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("[FAIL] Source auth error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[FAIL] Destination Local(./afile/out) -- "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Some checks failed. Fix the issues above before running exports.\n"),
            std::string::npos);
  EXPECT_EQ((r.out + r.err).find(wrong), std::string::npos) << "the password leaked";
  EXPECT_EQ(ReadFile(dir_ + "/afile"), "not a folder");
}

TEST_P(PreflightTest, DoctorReportsTheNegotiatedTls) {
  RIVET_REQUIRE_ENV(ca, "RIVET_TEST_TLS_CA");
  WriteConfig(Export("a", "idx", ""),
              fmt::format("  tls:\n    mode: verify-full\n    ca_file: {}\n", ca));
  CommandResult r = Rivet("doctor");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("; TLS TLSv1."), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[WARN] Source connection is not encrypted"), std::string::npos) << r.out;

  WriteConfig(Export("a", "idx", ""), "  tls:\n    mode: disable\n");
  CommandResult plain = Rivet("doctor");
  EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;  // a warning, not a failure
  EXPECT_NE(plain.out.find("[WARN] Source connection is not encrypted"), std::string::npos)
      << plain.out;
}

INSTANTIATE_TEST_SUITE_P(Engines, PreflightTest, ::testing::Values(kPostgres, kMysql),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// Doctor against the object stores (PostgreSQL as the source).
class DoctorStoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(pg, "RIVET_TEST_PG_URL");
    RIVET_REQUIRE_ENV(s3, "RIVET_TEST_S3_ENDPOINT");
    RIVET_REQUIRE_ENV(backend, "RIVET_TEST_S3_BACKEND");
    RIVET_REQUIRE_ENV(gcs, "RIVET_TEST_GCS_ENDPOINT");
    RIVET_REQUIRE_ENV(sa, "RIVET_TEST_GCS_SA_FILE");
    RIVET_REQUIRE_ENV(wrong_sa, "RIVET_TEST_GCS_WRONG_SA_FILE");
    pg_ = pg;
    s3_ = s3;
    backend_ = backend;
    gcs_ = gcs;
    sa_ = sa;
    wrong_sa_ = wrong_sa;
    dir_ = MakeTempDir("doctor-stores");
    prefix_ = fmt::format("doctor-{}/", ::getpid());
  }
  std::string S3Export(const std::string& name, const std::string& bucket,
                       const std::string& secret_env) {
    return fmt::format(
        "  - name: {}\n    query: \"SELECT 1 AS x\"\n    destination:\n      type: s3\n"
        "      bucket: {}\n      prefix: {}\n      endpoint: {}\n      region: us-east-1\n"
        "      access_key_env: RIVET_TEST_S3_ACCESS_KEY\n      secret_key_env: {}\n",
        name, bucket, prefix_, s3_, secret_env);
  }
  std::string GcsExport(const std::string& name, const std::string& key_file) {
    return fmt::format(
        "  - name: {}\n    query: \"SELECT 1 AS x\"\n    destination:\n      type: gcs\n"
        "      bucket: rivet-test\n      prefix: {}\n      endpoint: {}\n"
        "      credentials_file: {}\n",
        name, prefix_, gcs_, key_file);
  }
  CommandResult Doctor(const std::string& exports) {
    WriteFile(dir_ + "/rivet.yaml",
              "source:\n  type: postgres\n  url_env: RIVET_PRE_URL\nexports:\n" + exports);
    return RunCommand("RIVET_PRE_URL=" + ShellQuote(pg_) +
                      " RIVET_WRONG_SECRET=" + ShellQuote(kWrongSecret) + " " + RIVET_BINARY +
                      " doctor -c " + dir_ + "/rivet.yaml");
  }
  static constexpr const char* kWrongSecret = "wrong/secret+Kq7";
  std::string pg_, s3_, backend_, gcs_, sa_, wrong_sa_, dir_, prefix_;
};

TEST_F(DoctorStoresTest, GoodCredentialsPassAndLeaveNoMarker) {
  CommandResult r =
      Doctor(S3Export("s3", "rivet-test", "RIVET_TEST_S3_SECRET_KEY") + GcsExport("gcs", sa_));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("[OK]  Destination S3(rivet-test)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[OK]  Destination GCS(rivet-test)"), std::string::npos) << r.out;
  EXPECT_TRUE(S3Server(s3_, backend_, "rivet-test").Keys(prefix_).empty());
}

TEST_F(DoctorStoresTest, AWrongSecretAMissingBucketAndABadKeyFail) {
  CommandResult r = Doctor(S3Export("wrong", "rivet-test", "RIVET_WRONG_SECRET") +
                           S3Export("missing", "rivet-no-such-bucket", "RIVET_TEST_S3_SECRET_KEY") +
                           GcsExport("gcs", wrong_sa_));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  size_t failures = 0;
  for (const std::string& line : SplitLines(r.out)) {
    if (line.starts_with("[FAIL] Destination ")) ++failures;
  }
  EXPECT_EQ(failures, 3u) << r.out;
  EXPECT_NE(r.out.find("[FAIL] Destination S3(rivet-no-such-bucket) -- "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[FAIL] Destination GCS(rivet-test) -- "), std::string::npos) << r.out;
  EXPECT_EQ((r.out + r.err).find(kWrongSecret), std::string::npos) << "the secret leaked";
  EXPECT_EQ((r.out + r.err).find("PRIVATE KEY"), std::string::npos) << "the key leaked";
  EXPECT_TRUE(S3Server(s3_, backend_, "rivet-test").Keys(prefix_).empty());
}

}  // namespace
}  // namespace rivet::testing
