// Exports to Google Cloud Storage end to end: PostgreSQL -> the rivet binary -> the project's
// GCS test server (tools/gcs-fake.mjs: the JSON API's uploads, its own token endpoint and
// metadata server, faults). Objects are fetched through the server's control paths, never the
// code under test, and read by DuckDB; the state DB's manifest and cursors, the server's log of
// requests and its open upload sessions say what happened on the way.
//
// Every run gets an empty HOME, no Google variables of the caller and the metadata server
// turned off, unless a test sets them: only the credentials a test gives are ever seen.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "rivet/state/state.h"
#include "support/export_checks.h"
#include "support/gcs_server.h"
#include "support/pg_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSaEmail = "rivet-test@rivet-test.iam.gserviceaccount.com";
constexpr const char* kTable = "rivet_gcs.events";

// 200,000 rows: ~14.8 MB of CSV (two 8 MiB chunks of a resumable upload), ~4.7 MB of Parquet.
constexpr const char* kSetup = R"sql(
DROP SCHEMA IF EXISTS rivet_gcs CASCADE;
CREATE SCHEMA rivet_gcs;
CREATE TABLE rivet_gcs.events AS
  SELECT g AS id, md5(g::text) AS v, ((g % 1000) * 0.25)::numeric(10, 2) AS amount,
         timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' AS seen_at
  FROM generate_series(1, 200000) g;
)sql";

constexpr const char* kQuery =
    "    query: \"SELECT id, v, amount, seen_at FROM rivet_gcs.events\"\n";

// The requests of a log that match `method` and whose path starts with `path`.
std::vector<json> Matching(const json& log, const std::string& method, const std::string& path) {
  std::vector<json> out;
  for (const json& r : log) {
    if (r.value("method", "") == method && r.value("path", "").rfind(path, 0) == 0) {
      out.push_back(r);
    }
  }
  return out;
}

// PUTs to resumable upload sessions.
std::vector<json> SessionPuts(const json& log) {
  std::vector<json> out;
  for (const json& r : Matching(log, "PUT", "/upload/")) {
    if (r.value("query", "").find("upload_id") != std::string::npos) out.push_back(r);
  }
  return out;
}

bool AnyStatus(const std::vector<json>& requests, int status) {
  for (const json& r : requests) {
    if (r.value("status", 0) == status) return true;
  }
  return false;
}

class GcsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(pg, "RIVET_TEST_PG_URL");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    RIVET_REQUIRE_ENV(endpoint, "RIVET_TEST_GCS_ENDPOINT");
    RIVET_REQUIRE_ENV(bucket, "RIVET_TEST_GCS_BUCKET");
    RIVET_REQUIRE_ENV(public_bucket, "RIVET_TEST_GCS_PUBLIC_BUCKET");
    RIVET_REQUIRE_ENV(denied_bucket, "RIVET_TEST_GCS_DENIED_BUCKET");
    RIVET_REQUIRE_ENV(sa_file, "RIVET_TEST_GCS_SA_FILE");
    RIVET_REQUIRE_ENV(adc_file, "RIVET_TEST_GCS_ADC_FILE");
    RIVET_REQUIRE_ENV(metadata_host, "RIVET_TEST_GCS_METADATA_HOST");
    RIVET_REQUIRE_ENV(metadata_email, "RIVET_TEST_GCS_METADATA_EMAIL");
    pg_ = pg;
    tools_ = tools;
    endpoint_ = endpoint;
    bucket_ = bucket;
    public_bucket_ = public_bucket;
    denied_bucket_ = denied_bucket;
    sa_file_ = sa_file;
    adc_file_ = adc_file;
    metadata_host_ = metadata_host;
    metadata_email_ = metadata_email;
    PgClient client(pg_);
    ASSERT_TRUE(client.ok()) << client.error();
    ASSERT_EQ(client.Exec(kSetup), "");
    dir_ = MakeTempDir("gcs");
    prefix_ = TestObjectPrefix();
    Server().Reset();
  }
  void TearDown() override {
    if (endpoint_.empty()) return;
    Server().Reset();
    // What a passing test wrote goes (the exports are large); a failing one's stays to look at.
    if (HasFailure()) return;
    const std::string root = prefix_.substr(0, prefix_.find('/') + 1);
    for (const std::string& bucket : {bucket_, public_bucket_}) {
      for (const std::string& name : Server().Names(bucket, root)) Server().Remove(bucket, name);
    }
    fs::remove_all(dir_);
  }

  GcsServer Server() const { return GcsServer(endpoint_); }
  std::set<std::string> Names(const std::string& prefix) const {
    return Server().Names(bucket_, prefix);
  }
  // Downloads the objects into the test's folder; returns the local paths.
  std::vector<std::string> Download(const std::set<std::string>& names,
                                    const std::string& bucket = "") {
    std::vector<std::string> paths;
    for (const std::string& name : names) {
      paths.push_back(dir_ + "/" + fs::path(name).filename().string());
      WriteFile(paths.back(), Server().Object(bucket.empty() ? bucket_ : bucket, name));
    }
    return paths;
  }
  std::string ReadBack(const std::string& reader, const std::set<std::string>& names,
                       const std::string& bucket = "") {
    return DuckDigest(tools_, reader + "([" + QuotedList(Download(names, bucket)) + "])");
  }
  std::string Source(const std::string& where = "") { return SourceDigest(pg_, kTable, where); }

  // The destination's lines for the fake's endpoint and its service-account key.
  std::string KeyFile(const std::string& file = "") const {
    return "      endpoint: " + endpoint_ +
           "\n      credentials_file: " + (file.empty() ? sa_file_ : file) + "\n";
  }
  std::string WriteConfig(const std::string& export_lines, const std::string& destination_lines,
                          const std::string& tuning = "", const std::string& bucket = "") {
    const std::string path = dir_ + "/rivet.yaml";
    WriteFile(path, fmt::format("source:\n  type: postgres\n  url_env: RIVET_GCS_PG\n{}"
                                "exports:\n  - name: events\n{}"
                                "    destination:\n      type: gcs\n      bucket: {}\n"
                                "      prefix: {}\n{}",
                                tuning, export_lines, bucket.empty() ? bucket_ : bucket, prefix_,
                                destination_lines));
    return path;
  }
  // The rivet binary in a bare environment; `env` ("NAME=value ...") comes last and wins.
  CommandResult Rivet(const std::string& args, const std::string& env = "") {
    return RunCommand("RIVET_GCS_PG=" + ShellQuote(pg_) + " TMPDIR=" + ShellQuote(dir_) +
                      " HOME=" + ShellQuote(dir_) +
                      " GOOGLE_APPLICATION_CREDENTIALS= CLOUDSDK_CONFIG= STORAGE_EMULATOR_HOST="
                      " GCE_METADATA_HOST= METADATA_SERVER_DETECTION=none " +
                      env + " " + RIVET_BINARY + " " + args);
  }

  // A Parquet export whose destination names only the endpoint, run with `env`: it must
  // succeed and read back exact.
  CommandResult ExportWithCredentialsFromTheEnvironment(const std::string& env) {
    CommandResult r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: parquet\n",
                                                    "      endpoint: " + endpoint_ + "\n"),
                            env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::set<std::string> names = Names(prefix_);
    EXPECT_EQ(names.size(), 1u);
    EXPECT_EQ(ReadBack("read_parquet", names), Source());
    return r;
  }

  // No resumable session left open and no pending copy left under the prefix.
  void ExpectNothingLeftOver() {
    EXPECT_EQ(Server().OpenSessions(), json::array());
    for (const std::string& name : Names(prefix_)) {
      EXPECT_EQ(name.find(".rivet-pending"), std::string::npos) << name;
    }
  }
  // The manifest names exactly `names`, as gs:// URLs.
  void ExpectManifestNames(const std::set<std::string>& names) {
    std::set<std::string> locations;
    for (const state::FileRecord& f : ManifestIn(dir_)) {
      EXPECT_EQ(f.location, "gs://" + bucket_ + "/" + prefix_ + f.file_name);
      locations.insert(f.location);
    }
    std::set<std::string> expected;
    for (const std::string& name : names) expected.insert("gs://" + bucket_ + "/" + name);
    EXPECT_EQ(locations, expected);
  }

  // A copy of the fake's service-account key file with a fresh RSA key the fake does not know
  // (same account, same key id); `key_pem` gets the new key's text.
  std::string UnknownKeyFile(std::string& key_pem) {
    const std::string pem = dir_ + "/unknown-key.pem";
    CommandResult r = RunCommand(
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + ShellQuote(pem));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    key_pem = ReadFile(pem);
    fs::remove(pem);
    json key = json::parse(ReadFile(sa_file_));
    key["private_key"] = key_pem;
    const std::string file = dir_ + "/unknown-key.json";
    WriteFile(file, key.dump(2));
    return file;
  }

  std::string pg_, tools_, endpoint_, bucket_, public_bucket_, denied_bucket_, sa_file_, adc_file_,
      metadata_host_, metadata_email_, dir_, prefix_;
};

TEST_F(GcsTest, ParquetAndCsvPartsReadBackExactAndTheManifestNamesThem) {
  // Parquet in ~2 MB parts: each one multipart upload, read back by --validate (ranged GETs).
  const std::string prefix = prefix_;
  CommandResult r =
      Rivet("run --validate -c " +
            WriteConfig(std::string(kQuery) + "    format: parquet\n    max_file_size: 2MB\n",
                        KeyFile()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("validated:   pass"), std::string::npos) << r.err;
  const std::set<std::string> parquet = Names(prefix_);
  ASSERT_GE(parquet.size(), 2u);
  for (const std::string& name : parquet) {
    EXPECT_TRUE(name.ends_with(".parquet")) << name;
    EXPECT_NE(name.find("_part"), std::string::npos) << name;
  }
  EXPECT_EQ(ReadBack("read_parquet", parquet), Source());
  ExpectManifestNames(parquet);
  ExpectNothingLeftOver();

  // CSV in 9 MB parts: the first needs a resumable session before its name is known, so it
  // goes up as .rivet-pending, is copied under its name inside GCS, and the pending one deleted.
  prefix_ += "csv/";
  Server().Reset();
  r = Rivet(
      "run --validate -c " +
      WriteConfig(std::string(kQuery) + "    format: csv\n    max_file_size: 9MB\n", KeyFile()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("validated:   pass"), std::string::npos) << r.err;
  const std::set<std::string> csv = Names(prefix_);
  ASSERT_EQ(csv.size(), 2u);
  for (const std::string& name : csv) EXPECT_NE(name.find("_part"), std::string::npos) << name;
  EXPECT_EQ(ReadBack("read_csv", csv), Source());
  const json log = Server().Requests();
  EXPECT_FALSE(SessionPuts(log).empty()) << "no resumable upload";
  bool copied = false;
  for (const json& post : Matching(log, "POST", "/storage/v1/b/")) {
    copied |= post.value("path", "").find(".rivet-pending/rewriteTo/") != std::string::npos &&
              post.value("status", 0) == 200;
  }
  EXPECT_TRUE(copied) << log.dump();
  bool pending_deleted = false;
  for (const json& del : Matching(log, "DELETE", "/storage/v1/b/")) {
    pending_deleted |=
        del.value("path", "").ends_with(".rivet-pending") && del.value("status", 0) == 204;
  }
  EXPECT_TRUE(pending_deleted) << log.dump();
  ExpectNothingLeftOver();

  // One state DB for both runs: every file of each, by its gs:// URL.
  prefix_ = prefix;
  std::set<std::string> all = Names(prefix_);
  EXPECT_EQ(all.size(), parquet.size() + csv.size());
  std::set<std::string> locations;
  for (const state::FileRecord& f : ManifestIn(dir_)) locations.insert(f.location);
  std::set<std::string> expected;
  for (const std::string& name : all) expected.insert("gs://rivet-test/" + name);
  EXPECT_EQ(locations, expected);
}

// Quality gates hold every file: CSV parts of ~9 MB wait as open resumable sessions (their
// unsent tails parked on disk) and a small last part as a pending multipart body. FAIL cancels
// every session and leaves no object; pass delivers all parts exact.
TEST_F(GcsTest, QualityGatesHoldEveryPartUntilTheExportPasses) {
  const std::string parts = std::string(kQuery) + "    format: csv\n    max_file_size: 9MB\n";
  CommandResult r = Rivet("run -c " + WriteConfig(parts + "    quality:\n      row_count_max: "
                                                          "199999\n",
                                                  KeyFile()));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("row_count 200000 exceeds maximum 199999"), std::string::npos) << r.err;
  EXPECT_TRUE(Names(prefix_).empty());
  ExpectNothingLeftOver();
  EXPECT_TRUE(ManifestIn(dir_).empty());

  r = Rivet("run -c " + WriteConfig(parts + "    quality:\n      row_count_min: 200000\n"
                                            "      unique_columns: [id, v]\n",
                                    KeyFile()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("quality:     pass"), std::string::npos) << r.err;
  const std::set<std::string> names = Names(prefix_);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());
  ExpectManifestNames(names);
  ExpectNothingLeftOver();
}

TEST_F(GcsTest, IncrementalRunsExportOnlyNewRowsAndMoveTheCursor) {
  const std::string config = WriteConfig(
      std::string(kQuery) + "    mode: incremental\n    cursor_column: id\n    format: csv\n",
      KeyFile());
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::set<std::string> first = Names(prefix_);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", first), Source());
  EXPECT_EQ(CursorIn(dir_, "events"), "200000");

  PgClient client(pg_);
  ASSERT_EQ(client.Exec("INSERT INTO rivet_gcs.events SELECT g, md5(g::text), 1.5, now() "
                        "FROM generate_series(200001, 230000) g"),
            "");
  r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> second = Names(prefix_);
  for (const std::string& name : first) second.erase(name);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", second), Source("WHERE id > 200000"));
  EXPECT_EQ(CursorIn(dir_, "events"), "230000");
  ExpectManifestNames(Names(prefix_));
  ExpectNothingLeftOver();
}

TEST_F(GcsTest, ChunkedParallelExportDeliversEveryChunk) {
  // 300,000 rows in chunks of 120,000 on 2 workers: two chunks of ~9 MB (resumable sessions,
  // in parallel) and one of ~4.5 MB (multipart).
  PgClient client(pg_);
  ASSERT_EQ(client.Exec("INSERT INTO rivet_gcs.events SELECT g, md5(g::text), 0, now() "
                        "FROM generate_series(200001, 300000) g"),
            "");
  const std::string config = WriteConfig(
      std::string(kQuery) +
          "    mode: chunked\n    chunk_column: id\n    chunk_size: 120000\n    parallel: 2\n"
          "    format: csv\n",
      KeyFile());
  CommandResult r = Rivet("run --validate -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::set<std::string> names = Names(prefix_);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());
  EXPECT_FALSE(SessionPuts(Server().Requests()).empty()) << "no resumable upload";
  ExpectManifestNames(names);
  ExpectNothingLeftOver();
}

TEST_F(GcsTest, ResumableChunksSurviveResetsAndServerErrors) {
  // Two chunks: the first is cut half-way through its body (the fake keeps 4 MiB of it), the
  // rest of it is cut once it arrived; the last chunk is answered 503, and so is the status
  // query after it. Each time rivet asks the session what it holds and sends only the rest.
  Server().Faults(R"([{"method":"PUT","query":"upload_id","action":"reset-mid","count":1},
                      {"method":"PUT","query":"upload_id","action":"reset","skip":1,"count":1},
                      {"method":"PUT","query":"upload_id","action":"status","status":503,
                       "skip":3,"count":2}])");
  CommandResult r =
      Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", KeyFile()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::set<std::string> names = Names(prefix_);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());

  const std::vector<json> puts = SessionPuts(Server().Requests());
  EXPECT_TRUE(AnyStatus(puts, -2)) << "the cut mid-body never fired";
  EXPECT_TRUE(AnyStatus(puts, -1)) << "the reset never fired";
  bool status_query = false, resumed_at_kept = false, chunk_503 = false;
  for (const json& put : puts) {
    const std::string range = put.value("contentRange", "");
    status_query |= range == "bytes */*";
    resumed_at_kept |= range.rfind("bytes 4194304-", 0) == 0;
    chunk_503 |= put.value("status", 0) == 503 && range.rfind("bytes */", 0) != 0;
  }
  EXPECT_TRUE(status_query) << "the session was never asked what it holds";
  EXPECT_TRUE(resumed_at_kept) << "not resumed from the 4 MiB the session kept";
  EXPECT_TRUE(chunk_503) << "no chunk was answered 503";
  ExpectNothingLeftOver();
}

TEST_F(GcsTest, ALostSessionIsOpenedAgainOrItsFileWrittenAgain) {
  // Lost during its first chunk: every byte is still in memory, a new session starts over.
  Server().Faults(R"([{"method":"PUT","query":"upload_id","action":"lose-session","count":1}])");
  const std::string config = WriteConfig(std::string(kQuery) + "    format: csv\n", KeyFile());
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> names = Names(prefix_);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());
  json log = Server().Requests();
  EXPECT_TRUE(AnyStatus(SessionPuts(log), 404));
  EXPECT_EQ(Matching(log, "POST", "/upload/").size(), 2u) << "the session was not opened again";
  EXPECT_EQ(r.err.find("retries:"), std::string::npos) << r.err;  // the unit itself went on
  ExpectNothingLeftOver();

  // Lost on its last chunk: the first 8 MiB are gone from memory; the file is written again.
  prefix_ += "later/";
  Server().Reset();
  Server().Faults(
      R"([{"method":"PUT","query":"upload_id","action":"lose-session","skip":1,"count":1}])");
  r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", KeyFile()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("written again from its start"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retries:     1"), std::string::npos) << r.err;
  names = Names(prefix_);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());
  ExpectNothingLeftOver();
}

TEST_F(GcsTest, RetriesExhaustedCancelTheSessionAndKeepTheCursor) {
  const std::string config = WriteConfig(
      std::string(kQuery) + "    mode: incremental\n    cursor_column: id\n    format: csv\n",
      KeyFile(), "  tuning: {max_retries: 0}\n");
  // The first chunk goes in; every later request to the session is answered 503.
  Server().Faults(
      R"([{"method":"PUT","query":"upload_id","skip":1,"action":"status","status":503,"count":1000}])");
  CommandResult r = Rivet("run -c " + config);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("HTTP 503"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after 5 tries"), std::string::npos) << r.err;
  EXPECT_TRUE(Names(prefix_).empty());
  const std::vector<json> cancels = Matching(Server().Requests(), "DELETE", "/upload/");
  ASSERT_EQ(cancels.size(), 1u) << "the session was not cancelled";
  EXPECT_EQ(cancels[0].value("status", 0), 499);
  EXPECT_EQ(Server().OpenSessions(), json::array());
  EXPECT_TRUE(ManifestIn(dir_).empty());
  EXPECT_EQ(CursorIn(dir_, "events"), std::nullopt);

  // The same export, once the store recovers, delivers everything and moves the cursor.
  Server().Reset();
  r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadBack("read_csv", Names(prefix_)), Source());
  EXPECT_EQ(CursorIn(dir_, "events"), "200000");
}

TEST_F(GcsTest, AnObjectThatAppearedMeanwhileIsNeverOverwritten) {
  // ifGenerationMatch=0 refused (412) on the last chunk of a resumable upload...
  Server().Faults(R"([{"method":"PUT","query":"upload_id","skip":1,"action":"status",
                       "status":412,"reason":"conditionNotMet","count":1}])");
  CommandResult r =
      Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", KeyFile()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("already exists and Rivet never overwrites a file"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("gs://rivet-test/" + prefix_), std::string::npos) << r.err;
  json log = Server().Requests();
  EXPECT_EQ(SessionPuts(log).size(), 2u) << "a refused upload was tried again";
  EXPECT_EQ(Matching(log, "DELETE", "/upload/").size(), 1u) << "the session was not cancelled";
  EXPECT_TRUE(Names(prefix_).empty());
  EXPECT_TRUE(ManifestIn(dir_).empty());
  ExpectNothingLeftOver();

  // ...and on a multipart upload.
  prefix_ += "multipart/";
  Server().Reset();
  Server().Faults(R"([{"method":"POST","path":"/upload/","action":"status","status":412,
                       "reason":"conditionNotMet","count":1}])");
  r = Rivet("run -c " +
            WriteConfig(std::string(kQuery) + "    format: parquet\n    max_file_size: 2MB\n",
                        KeyFile()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("already exists and Rivet never overwrites a file"), std::string::npos)
      << r.err;
  log = Server().Requests();
  EXPECT_EQ(Matching(log, "POST", "/upload/").size(), 1u) << "a refused upload was tried again";
  EXPECT_TRUE(Names(prefix_).empty());
}

TEST_F(GcsTest, AnUnknownKeyFailsAtOnceNamingTheAccountAndTheBucketAndNoKeyLeaks) {
  std::string key_pem;
  const std::string key_file = UnknownKeyFile(key_pem);
  CommandResult r =
      Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", KeyFile(key_file)));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(kSaEmail), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bucket 'rivet-test'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid_grant"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(key_file), std::string::npos) << r.err;
  // Refused by the token endpoint, and not retried: no storage request was ever made.
  const json log = Server().Requests();
  for (const json& request : log) {
    EXPECT_EQ(request.value("path", ""), "/token") << request.dump();
    EXPECT_EQ(request.value("status", 0), 400) << request.dump();
  }
  EXPECT_TRUE(Names(prefix_).empty());
  // No line of either key, nor a signed assertion, anywhere a run leaves bytes.
  const std::string everything = OutputAndStateFiles(r, dir_);
  EXPECT_FALSE(everything.empty());
  for (const std::string& file_key :
       {key_pem, json::parse(ReadFile(sa_file_))["private_key"].get<std::string>()}) {
    for (const std::string& line : SplitLines(file_key)) {
      if (line.find("-----") != std::string::npos || line.size() < 16) continue;
      ASSERT_EQ(everything.find(line), std::string::npos) << "a line of a private key leaked";
    }
  }
  EXPECT_EQ(everything.find("eyJ"), std::string::npos) << "a JWT leaked";
}

TEST_F(GcsTest, ADeniedBucketIsA403NamingTheIdentityAndTheBucket) {
  CommandResult r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: parquet\n",
                                                  KeyFile(), "", denied_bucket_));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("HTTP 403"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::string("service account ") + kSaEmail), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bucket '" + denied_bucket_ + "'"), std::string::npos) << r.err;
  // Not retried: one upload, refused.
  const std::vector<json> uploads = Matching(Server().Requests(), "POST", "/upload/");
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_EQ(uploads[0].value("status", 0), 403);
  EXPECT_TRUE(ManifestIn(dir_).empty());
}

TEST_F(GcsTest, AMissingBucketIsAConfigErrorNamingIt) {
  CommandResult r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n",
                                                  KeyFile(), "", "no-such-bucket-here"));
  EXPECT_EQ(r.exit_code, 2) << r.err;  // a configuration error
  EXPECT_NE(r.err.find("bucket does not exist"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("destination.bucket ('no-such-bucket-here')"), std::string::npos) << r.err;
  EXPECT_TRUE(Matching(Server().Requests(), "POST", "/upload/").empty());
}

TEST_F(GcsTest, AnonymousAccessWritesToAPublicBucketOnly) {
  const std::string anonymous = "      endpoint: " + endpoint_ + "\n      allow_anonymous: true\n";
  CommandResult r =
      Rivet("run --validate -c " +
            WriteConfig(std::string(kQuery) + "    format: csv\n", anonymous, "", public_bucket_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::set<std::string> names = Server().Names(public_bucket_, prefix_);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", names, public_bucket_), Source());
  const json log = Server().Requests();
  EXPECT_FALSE(log.empty());
  for (const json& request : log) {
    EXPECT_EQ(request.value("auth", ""), "none") << request.dump();
    EXPECT_NE(request.value("path", ""), "/token");
  }
  EXPECT_EQ(Server().OpenSessions(), json::array());

  // The same against a private bucket: refused, naming who asked.
  Server().Reset();
  r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", anonymous));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("anonymous"), std::string::npos) << r.err;
  EXPECT_TRUE(Names(prefix_).empty());
}

TEST_F(GcsTest, GoogleApplicationCredentials) {
  ExportWithCredentialsFromTheEnvironment("GOOGLE_APPLICATION_CREDENTIALS=" + ShellQuote(sa_file_));
  const std::vector<json> tokens = Matching(Server().Requests(), "POST", "/token");
  ASSERT_FALSE(tokens.empty());
  for (const json& t : tokens) EXPECT_EQ(t.value("grant", ""), "jwt-bearer") << t.dump();
}

TEST_F(GcsTest, TheGcloudApplicationDefaultCredentialsOfCloudSdkConfig) {
  const std::string config_dir = dir_ + "/gcloud";
  fs::create_directories(config_dir);
  WriteFile(config_dir + "/application_default_credentials.json", ReadFile(adc_file_));
  const CommandResult r =
      ExportWithCredentialsFromTheEnvironment("CLOUDSDK_CONFIG=" + ShellQuote(config_dir));
  const std::vector<json> tokens = Matching(Server().Requests(), "POST", "/token");
  ASSERT_FALSE(tokens.empty());
  for (const json& t : tokens) EXPECT_EQ(t.value("grant", ""), "refresh_token") << t.dump();
  const json adc = json::parse(ReadFile(adc_file_));
  const std::string everything = OutputAndStateFiles(r, dir_);
  EXPECT_EQ(everything.find(adc["refresh_token"].get<std::string>()), std::string::npos);
  EXPECT_EQ(everything.find(adc["client_secret"].get<std::string>()), std::string::npos);
}

TEST_F(GcsTest, TheMetadataServerOfGceMetadataHost) {
  ExportWithCredentialsFromTheEnvironment("METADATA_SERVER_DETECTION= GCE_METADATA_HOST=" +
                                          ShellQuote(metadata_host_));
  const json log = Server().Requests();
  EXPECT_TRUE(Matching(log, "POST", "/token").empty());
  EXPECT_FALSE(
      Matching(log, "GET", "/computeMetadata/v1/instance/service-accounts/default/token").empty());
}

TEST_F(GcsTest, StorageEmulatorHostStandsForTheEndpoint) {
  // host:port, as Google's libraries take it; the credentials stay the configured key.
  const std::string host = endpoint_.substr(endpoint_.find("://") + 3);
  const std::string key = "      credentials_file: " + sa_file_ + "\n";
  CommandResult r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", key),
                          "STORAGE_EMULATOR_HOST=" + ShellQuote(host));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::set<std::string> names = Names(prefix_);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());
  ExpectManifestNames(names);

  // destination.endpoint wins over the variable (which points at nothing here).
  prefix_ += "endpoint/";
  r = Rivet("run -c " + WriteConfig(std::string(kQuery) + "    format: csv\n", KeyFile()),
            "STORAGE_EMULATOR_HOST=127.0.0.1:1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Names(prefix_).size(), 1u);
}

TEST_F(GcsTest, ShortLivedTokensAreFetchedAgainDuringAnExport) {
  // ~6 s of export (20 batches, 300 ms apart) in ~1 MB parts, each a multipart upload with a
  // token: with tokens of 2 s, later parts need fresh ones.
  const std::string export_lines =
      std::string(kQuery) + "    format: csv\n    max_file_size: 1MB\n";
  const std::string tuning = "  tuning: {batch_size: 10000, throttle_ms: 300}\n";
  auto token_requests = [](const json& log) { return Matching(log, "POST", "/token").size(); };
  CommandResult r = Rivet("run -c " + WriteConfig(export_lines, KeyFile(), tuning));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t long_lived = token_requests(Server().Requests());

  prefix_ += "short/";
  Server().Reset();
  Server().TokenTtl(2);
  r = Rivet("run -c " + WriteConfig(export_lines, KeyFile(), tuning));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json log = Server().Requests();
  EXPECT_GT(token_requests(log), long_lived) << "no token was fetched again";
  for (const json& request : log) {
    EXPECT_NE(request.value("auth", ""), "invalid")
        << "an expired token was sent: " << request.dump();
    EXPECT_NE(request.value("status", 0), 401) << request.dump();
  }
  const std::set<std::string> names = Names(prefix_);
  ASSERT_GT(names.size(), 5u);
  EXPECT_EQ(ReadBack("read_csv", names), Source());
}

TEST_F(GcsTest, ALargeCsvExportStreamsWithFlatMemoryAndNoLocalCopy) {
  // ~310 MB of CSV: one resumable upload of ~37 chunks. While it runs, the test watches the
  // run's folder (its TMPDIR, config and state DB) for any file larger than two chunks.
  PgClient client(pg_);
  ASSERT_EQ(client.Exec(WideTableSql(kTable, 2400000)), "");
  const std::string config = WriteConfig(
      "    query: \"SELECT id, v, w, seen_at FROM rivet_gcs.events\"\n    format: csv\n",
      KeyFile());

  const WatchedRun run = RunWatching(dir_, [&] { return Rivet("run -c " + config); });
  ASSERT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_LT(run.largest_local_file, 16u << 20) << "a local file grew with the export";
  ASSERT_TRUE(run.peak_rss_mb.has_value()) << run.result.err;
  // Flat memory: batches, the chunk in flight and the one being filled, whatever the size.
  EXPECT_LT(*run.peak_rss_mb, 96) << run.result.err;

  const std::set<std::string> names = Names(prefix_);
  ASSERT_EQ(names.size(), 1u);
  const std::vector<std::string> local = Download(names);
  EXPECT_GT(fs::file_size(local[0]), 290u << 20);
  EXPECT_EQ(DuckDigest(tools_, "read_csv('" + local[0] + "')"), Source());
  EXPECT_GT(SessionPuts(Server().Requests()).size(), 30u) << "not a resumable upload";
  ExpectNothingLeftOver();
  fs::remove(local[0]);
  ASSERT_EQ(client.Exec("DROP SCHEMA rivet_gcs CASCADE"), "");  // 2.4M rows not left behind
}

}  // namespace
}  // namespace rivet::testing
