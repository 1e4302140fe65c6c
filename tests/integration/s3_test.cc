// Exports to S3 end to end: PostgreSQL -> the rivet binary -> the project's S3 test server
// (s3rver behind tools/s3-proxy.mjs, which checks every SigV4 signature like AWS and injects
// faults). Objects are fetched from s3rver directly and read by DuckDB; the state DB's
// manifest, cursors and the proxy's log of requests say what happened on the way.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "rivet/net/http_client.h"
#include "rivet/state/state.h"
#include "support/export_checks.h"
#include "support/pg_client.h"
#include "support/s3_server.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSetup = R"sql(
DROP SCHEMA IF EXISTS rivet_s3 CASCADE;
CREATE SCHEMA rivet_s3;
CREATE TABLE rivet_s3.events AS
  SELECT g AS id, md5(g::text) AS v, ((g % 1000) * 0.25)::numeric(10, 2) AS amount,
         timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' AS seen_at
  FROM generate_series(1, 200000) g;
)sql";

class S3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(pg, "RIVET_TEST_PG_URL");
    RIVET_REQUIRE_ENV(endpoint, "RIVET_TEST_S3_ENDPOINT");
    RIVET_REQUIRE_ENV(backend, "RIVET_TEST_S3_BACKEND");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    pg_ = pg;
    endpoint_ = endpoint;
    backend_ = backend;
    tools_ = tools;
    PgClient client(pg_);
    ASSERT_TRUE(client.ok()) << client.error();
    ASSERT_EQ(client.Exec(kSetup), "");
    dir_ = MakeTempDir("s3");
    prefix_ = TestObjectPrefix();
    ASSERT_EQ(Control("POST", "/__rivet/reset", "").status, 200);
  }
  void TearDown() override {
    if (!endpoint_.empty()) (void)Control("POST", "/__rivet/reset", "");
  }

  net::HttpResponse Control(const std::string& method, const std::string& path,
                            const std::string& body) {
    return Server().Control(method, path, body);
  }
  void Faults(const std::string& json) {
    ASSERT_EQ(Control("POST", "/__rivet/faults", json).status, 200);
  }
  std::string OpenUploads() { return Control("GET", "/__rivet/uploads", "").body; }
  std::string Requests() { return Control("GET", "/__rivet/requests", "").body; }
  S3Server Server() const { return S3Server(endpoint_, backend_, "rivet-test"); }
  std::set<std::string> Keys(const std::string& prefix) { return Server().Keys(prefix); }
  // Downloads `key` into the test's folder; returns the local path.
  std::string Download(const std::string& key) {
    const std::string path = dir_ + "/" + fs::path(key).filename().string();
    WriteFile(path, Server().Object(key));
    return path;
  }

  std::string WriteConfig(const std::string& export_lines, const std::string& destination_extra,
                          const std::string& tuning = "") {
    const std::string path = dir_ + "/rivet.yaml";
    WriteFile(path, fmt::format("source:\n  type: postgres\n  url_env: RIVET_S3_PG\n{}"
                                "exports:\n  - name: events\n{}"
                                "    destination:\n      type: s3\n      bucket: rivet-test\n"
                                "      prefix: {}\n      endpoint: {}\n{}",
                                tuning, export_lines, prefix_, endpoint_, destination_extra));
    return path;
  }
  static std::string Keys() {
    return "      access_key_env: RIVET_TEST_S3_ACCESS_KEY\n"
           "      secret_key_env: RIVET_TEST_S3_SECRET_KEY\n";
  }
  CommandResult Rivet(const std::string& args, const std::string& env = "") {
    return RunCommand("RIVET_S3_PG=" + ShellQuote(pg_) + " TMPDIR=" + ShellQuote(dir_) + " " + env +
                      " " + RIVET_BINARY + " " + args);
  }
  std::vector<state::FileRecord> Manifest() { return ManifestIn(dir_); }
  std::string SourceDigest() { return testing::SourceDigest(pg_, "rivet_s3.events"); }
  std::string DuckDigest(const std::string& from) { return testing::DuckDigest(tools_, from); }

  std::string pg_, endpoint_, backend_, tools_, dir_, prefix_;
};

constexpr const char* kQuery =
    "    query: \"SELECT id, v, amount, seen_at FROM rivet_s3.events\"\n";

TEST_F(S3Test, ParquetAndCsvPartsReadBackExactAndTheManifestNamesThem) {
  const std::string config = WriteConfig(std::string(kQuery) + "    format: parquet\n", Keys());
  CommandResult r = Rivet("run -c " + config + " --validate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("validated:   pass"), std::string::npos) << r.err;
  std::set<std::string> keys = Keys(prefix_);
  ASSERT_EQ(keys.size(), 1u);
  const std::string key = *keys.begin();
  EXPECT_TRUE(key.ends_with(".parquet")) << key;
  EXPECT_EQ(DuckDigest("'" + Download(key) + "'"), SourceDigest());
  std::vector<state::FileRecord> files = Manifest();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].location, "s3://rivet-test/" + key);

  // CSV split in small parts: each a single PUT with its final name.
  prefix_ += "csv/";
  const std::string csv =
      WriteConfig(std::string(kQuery) + "    format: csv\n    max_file_size: 2MB\n", Keys());
  r = Rivet("run -c " + csv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  keys = Keys(prefix_);
  ASSERT_GT(keys.size(), 3u);
  std::string list;
  for (const std::string& k : keys) {
    EXPECT_NE(k.find("_part"), std::string::npos) << k;
    list += (list.empty() ? "'" : ", '") + Download(k) + "'";
  }
  EXPECT_EQ(DuckDigest("read_csv([" + list + "])"), SourceDigest());
  EXPECT_EQ(OpenUploads(), "{\"open\":[]}");
}

TEST_F(S3Test, MultipartSurvivesResetsAndServerErrorsOnParts) {
  // ~13 MB of CSV: two parts. A part's connection is cut half-way through its body, another's
  // once it arrived; parts get 503 SlowDown and 500; the upload's start is answered late and
  // its completion with an error inside a 200.
  Faults(R"([{"method":"PUT","query":"partNumber","action":"reset-mid","count":1},
             {"method":"PUT","query":"partNumber","action":"reset","count":1},
             {"method":"PUT","query":"partNumber","action":"status","status":503,"code":"SlowDown","count":1},
             {"method":"PUT","query":"partNumber","action":"status","status":500,"count":1},
             {"method":"POST","query":"uploads","action":"slow","delay_ms":1500,"count":1},
             {"method":"POST","query":"uploadId","action":"error-in-200","count":1}])");
  const std::string config = WriteConfig(std::string(kQuery) + "    format: csv\n", Keys());
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> keys = Keys(prefix_);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(DuckDigest("read_csv('" + Download(*keys.begin()) + "')"), SourceDigest());
  const std::string log = Requests();
  EXPECT_NE(log.find("\"status\":-2"), std::string::npos) << "the cut mid-body never fired";
  EXPECT_NE(log.find("\"status\":-1"), std::string::npos) << "the reset never fired";
  EXPECT_NE(log.find("\"status\":503"), std::string::npos);
  EXPECT_EQ(OpenUploads(), "{\"open\":[]}");
  for (const std::string& k : Keys(prefix_)) EXPECT_EQ(k.find(".rivet-pending"), std::string::npos);
}

TEST_F(S3Test, RetriesExhaustedAbortTheUploadAndKeepTheCursor) {
  const std::string config = WriteConfig(
      std::string(kQuery) + "    mode: incremental\n    cursor_column: id\n    format: csv\n",
      Keys(), "  tuning: {max_retries: 0}\n");
  Faults(
      R"([{"method":"PUT","query":"partNumber","skip":1,"action":"status","status":500,"count":1000}])");
  CommandResult r = Rivet("run -c " + config);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("HTTP 500"), std::string::npos) << r.err;
  EXPECT_TRUE(Keys(prefix_).empty());
  EXPECT_EQ(OpenUploads(), "{\"open\":[]}");  // aborted: no parts left to bill
  EXPECT_TRUE(Manifest().empty());
  EXPECT_EQ(CursorIn(dir_, "events"), std::nullopt);

  // The same export, once the store recovers, delivers everything and moves the cursor.
  ASSERT_EQ(Control("POST", "/__rivet/reset", "").status, 200);
  r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CursorIn(dir_, "events"), "200000");
}

TEST_F(S3Test, AWrongSecretFailsAtOnceAndNoSecretLeaks) {
  const std::string config = WriteConfig(std::string(kQuery) + "    format: csv\n", Keys());
  CommandResult r = Rivet("run -c " + config, "RIVET_TEST_S3_SECRET_KEY=not-the-secret-at-all");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("HTTP 403"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("access_key_env"), std::string::npos) << r.err;  // where the keys came from
  // One request, refused, never retried.
  const std::string log = Requests();
  EXPECT_EQ(std::count(log.begin(), log.end(), '{'), 1) << log;
  const std::string everything = OutputAndStateFiles(r, dir_);
  EXPECT_EQ(everything.find("not-the-secret-at-all"), std::string::npos);
  EXPECT_EQ(everything.find("rivet-test-secret/key"), std::string::npos);
}

TEST_F(S3Test, AMissingBucketIsAConfigErrorNamingIt) {
  std::string config = WriteConfig(std::string(kQuery) + "    format: csv\n", Keys());
  std::string text = ReadFile(config);
  text.replace(text.find("bucket: rivet-test"), 18, "bucket: no-such-bucket-here");
  WriteFile(config, text);
  CommandResult r = Rivet("run -c " + config);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("NoSuchBucket"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-such-bucket-here"), std::string::npos) << r.err;
}

TEST_F(S3Test, SessionCredentialsFromTheEnvironmentAndAnExpiredToken) {
  const std::string config = WriteConfig(std::string(kQuery) + "    format: parquet\n", "");
  const std::string session =
      "AWS_ACCESS_KEY_ID=$RIVET_TEST_S3_SESSION_ACCESS_KEY "
      "AWS_SECRET_ACCESS_KEY=$RIVET_TEST_S3_SESSION_SECRET_KEY "
      "AWS_SESSION_TOKEN=$RIVET_TEST_S3_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
      "AWS_CONFIG_FILE=/nonexistent";
  CommandResult r = Rivet("run -c " + config, session);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(Requests().find("\"token\":true"), std::string::npos);
  EXPECT_EQ(OutputAndStateFiles(r, dir_).find("rivet-session-token"), std::string::npos);

  const std::string expired =
      "AWS_ACCESS_KEY_ID=$RIVET_TEST_S3_EXPIRED_ACCESS_KEY "
      "AWS_SECRET_ACCESS_KEY=$RIVET_TEST_S3_EXPIRED_SECRET_KEY "
      "AWS_SESSION_TOKEN=$RIVET_TEST_S3_EXPIRED_TOKEN";
  r = Rivet("run -c " + config, expired);
  EXPECT_NE(r.exit_code, 0);
  // The first request is a HEAD: AWS's answer to it has a status and no error document.
  EXPECT_NE(r.err.find("HTTP 400"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("environment"), std::string::npos) << r.err;
  EXPECT_EQ(OutputAndStateFiles(r, dir_).find("rivet-expired-token"), std::string::npos);
}

TEST_F(S3Test, ChunkedParallelAndASplitFirstFileGetTheirNames) {
  // 3 chunks on 2 workers; the unchunked export below splits at 9 MB, so its first file is a
  // multipart upload whose name ("_part0") is known only after it: copied, never left pending.
  std::string config = WriteConfig(
      std::string(kQuery) +
          "    mode: chunked\n    chunk_column: id\n    chunk_size: 70000\n    parallel: 2\n"
          "    format: parquet\n",
      Keys());
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> keys = Keys(prefix_);
  ASSERT_EQ(keys.size(), 3u);
  std::string list;
  for (const std::string& k : keys) list += (list.empty() ? "'" : ", '") + Download(k) + "'";
  EXPECT_EQ(DuckDigest("read_parquet([" + list + "])"), SourceDigest());

  prefix_ += "split/";
  PgClient client(pg_);
  ASSERT_EQ(client.Exec("INSERT INTO rivet_s3.events SELECT g, md5(g::text), 0, now() "
                        "FROM generate_series(200001, 500000) g"),
            "");
  config = WriteConfig(std::string(kQuery) + "    format: csv\n    max_file_size: 9MB\n", Keys(),
                       "  tuning: {batch_size: 20000}\n");
  r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  keys = Keys(prefix_);
  ASSERT_GE(keys.size(), 2u);
  list.clear();
  for (const std::string& k : keys) {
    EXPECT_NE(k.find("_part"), std::string::npos) << k;
    EXPECT_EQ(k.find(".rivet-pending"), std::string::npos) << k;
    list += (list.empty() ? "'" : ", '") + Download(k) + "'";
  }
  EXPECT_EQ(DuckDigest("read_csv([" + list + "])"), SourceDigest());
  EXPECT_EQ(OpenUploads(), "{\"open\":[]}");
}

TEST_F(S3Test, ALargeExportStreamsWithFlatMemoryAndNoLocalCopy) {
  // ~300 MB of CSV: a multipart upload of ~35 parts. While it runs, the test watches the
  // run's folder (its TMPDIR, config and state DB) for any file larger than one part.
  PgClient client(pg_);
  ASSERT_EQ(client.Exec(WideTableSql("rivet_s3.events", 2200000)), "");
  const std::string config = WriteConfig(
      "    query: \"SELECT id, v, w, seen_at FROM rivet_s3.events\"\n    format: csv\n", Keys());

  const WatchedRun run = RunWatching(dir_, [&] { return Rivet("run -c " + config); });
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_LT(run.largest_local_file, 16u << 20) << "a local file grew with the export";
  ASSERT_TRUE(run.peak_rss_mb.has_value()) << run.result.err;
  // Flat memory: batches, two parts in flight and the part being filled, whatever the size.
  EXPECT_LT(*run.peak_rss_mb, 96) << run.result.err;

  std::set<std::string> keys = Keys(prefix_);
  ASSERT_EQ(keys.size(), 1u);
  const std::string local = Download(*keys.begin());
  EXPECT_GT(fs::file_size(local), 280u << 20);
  EXPECT_EQ(DuckDigest("read_csv('" + local + "')"), SourceDigest());
  const std::string log = Requests();
  EXPECT_GT(std::count(log.begin(), log.end(), '{'), 30) << "not a multipart upload";
  EXPECT_EQ(OpenUploads(), "{\"open\":[]}");
  fs::remove(local);  // 300 MB per run is not left behind, here or in the store
  Server().Remove(*keys.begin());
}

}  // namespace
}  // namespace rivet::testing
