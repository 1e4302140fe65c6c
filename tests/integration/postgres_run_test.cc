// End to end: a real PostgreSQL, the rivet binary, CSV on disk and on stdout, the state
// commands, and secrets. Values are compared with what PostgreSQL itself prints.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "support/csv_reader.h"
#include "support/pg_client.h"
#include "support/pg_types_fixture.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;

// How PostgreSQL prints each column, in the text forms Rivet's CSV promises (reference §5).
constexpr const char* kExpected = R"sql(
SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1;
SELECT id::text,
  CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END, i2::text, i4::text, i8::text, o::text,
  f4::text, f8::text, n12::text, n38::text, n38s::text, nfree::text,
  t, vc, bp::text || repeat(' ', 3 - length(bp)), nm::text, encode(by, 'hex'),
  to_char(d, 'YYYY-MM-DD'), to_char('2000-01-01'::date + tm, 'HH24:MI:SS.US'),
  to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.US'), to_char(tstz, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  u::text, j::text, jb::text, iv::text, mood::text, array_to_json(ia)::text,
  array_to_json(ta)::text, CASE WHEN ip IS NOT NULL THEN format('%s', ip) END, r::text
FROM rivet_e2e_types ORDER BY id
)sql";

class PostgresRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = EnvVar("RIVET_TEST_PG_URL");
    if (!url) {
      if (InCi()) FAIL() << "RIVET_TEST_PG_URL is not set: the test PostgreSQL is missing";
      GTEST_SKIP() << "RIVET_TEST_PG_URL is not set: start the test servers with scripts/test.sh";
    }
    url_ = *url;
    PgClient pg(url_);
    ASSERT_TRUE(pg.ok()) << pg.error();
    ASSERT_EQ(pg.Exec(kPgTypesSetup), "");
    dir_ = MakeTempDir("pg-run");
  }

  // Writes rivet.yaml in the test's folder with `exports` appended to a source reading
  // the URL from RIVET_E2E_URL.
  std::string WriteConfig(const std::string& exports) {
    std::string path = dir_ + "/rivet.yaml";
    WriteFile(path,
              "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
              "  tuning:\n    profile: fast\nexports:\n" +
                  exports);
    return path;
  }

  CommandResult Rivet(const std::string& args, const std::string& url = "") {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(url.empty() ? url_ : url) + " " + RIVET_BINARY +
                      " " + args);
  }

  std::string url_;
  std::string dir_;
};

constexpr const char* kCsvExport = R"(  - name: types
    query: "SELECT * FROM rivet_e2e_types ORDER BY id"
    format: csv
    destination:
      type: local
      path: out
)";

TEST_F(PostgresRunTest, EveryTypeToCsvMatchesWhatPostgresPrints) {
  std::string config = WriteConfig(kCsvExport);
  CommandResult r = Rivet("run --config " + config + " --validate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("status:      success"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("validated:   pass"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rows:        5"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");  // data never goes to stdout for a local destination

  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(std::regex_match(files[0], std::regex(R"(types_\d{8}_\d{6}\.csv)"))) << files[0];
  std::vector<CsvRow> csv = ParseCsv(ReadFile(dir_ + "/out/" + files[0]));

  PgClient pg(url_);
  std::vector<CsvRow> expected = pg.Query(kExpected);
  ASSERT_EQ(expected.size(), 5u) << pg.error();
  std::vector<CsvRow> header = pg.Query(
      "SELECT attname FROM pg_attribute WHERE attrelid = "
      "'rivet_e2e_types'::regclass AND attnum > 0 ORDER BY attnum");
  ASSERT_EQ(csv.size(), expected.size() + 1);
  ASSERT_EQ(csv[0].size(), header.size());
  for (size_t c = 0; c < header.size(); ++c) EXPECT_EQ(csv[0][c], header[c][0]);
  for (size_t row = 0; row < expected.size(); ++row) {
    ASSERT_EQ(csv[row + 1].size(), expected[row].size()) << "row " << row;
    for (size_t c = 0; c < expected[row].size(); ++c) {
      EXPECT_EQ(csv[row + 1][c], expected[row][c])
          << "row id " << *expected[row][0] << ", column " << *header[c][0];
    }
  }
}

TEST_F(PostgresRunTest, ProgressLineOnlyOnATerminal) {
  std::string config = WriteConfig(kCsvExport);
  CommandResult piped = Rivet("run -c " + config);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find("rows/s"), std::string::npos) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos);
  // script(1) gives rivet a pseudo-terminal as stdout and stderr.
  CommandResult tty =
      RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " script -qec " +
                 ShellQuote(std::string(RIVET_BINARY) + " run -c " + config) + " /dev/null");
  ASSERT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_NE(tty.out.find("types: 5 rows, "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(" rows/s, "), std::string::npos) << tty.out;
}

// tuning.max_source_share paces by the time rows take to arrive: the rows below cost the server
// at least 400 ms (pg_sleep), the run's time is its waits, its pauses and its own decoding, and
// at a share of 0.5 the pauses equal the waits, so they are at least (400 ms - decoding) / 2.
TEST_F(PostgresRunTest, MaxSourceSharePausesInProportionToTheWaitForRows) {
  std::string config = WriteConfig(R"(  - name: paced
    query: "SELECT g, pg_sleep(0.002)::text || repeat('x', 9000) AS s FROM generate_series(1, 200) g"
    format: csv
    tuning:
      batch_size: 20
      max_source_share: 0.5
    destination: {type: local, path: ./out}
)");
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rows:        200\n"), std::string::npos) << r.err;
  const std::string pace = "pace:        max_source_share=0.5, readers paused ";
  const size_t at = r.err.find(pace);
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string text = r.err.substr(at + pace.size());
  size_t unit = 0;
  const double value = std::stod(text, &unit);
  const double paused_s = text.compare(unit, 2, "ms") == 0 ? value / 1000 : value;
  EXPECT_GE(paused_s, 0.1) << r.err;
}

TEST_F(PostgresRunTest, StdoutCarriesOnlyTheData) {
  std::string config = WriteConfig(R"(  - name: piped
    query: "SELECT id, t FROM rivet_e2e_types WHERE id IN (1, 3) ORDER BY id"
    format: csv
    destination:
      type: stdout
)");
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "id,t\n1,plain\n3,\"\"\n");
  EXPECT_NE(r.err.find("── piped ──"), std::string::npos);
}

// Without --validate the bytes go straight to stdout: no temporary folder is needed. With it
// the file is finished in the temporary folder first and read back before a byte is written.
TEST_F(PostgresRunTest, StdoutStreamsAndStagesOnlyToValidate) {
  std::string config = WriteConfig(R"(  - name: piped
    query: "SELECT g AS id FROM generate_series(1, 50000) g"
    format: csv
    destination:
      type: stdout
)");
  const std::string no_tmp = "TMPDIR=" + dir_ + "/no-such-folder ";
  CommandResult streamed = RunCommand(no_tmp + "RIVET_E2E_URL=" + ShellQuote(url_) + " " +
                                      RIVET_BINARY + " run -c " + config);
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(SplitLines(streamed.out).size(), 50001u);

  CommandResult validated = RunCommand(no_tmp + "RIVET_E2E_URL=" + ShellQuote(url_) + " " +
                                       RIVET_BINARY + " run -c " + config + " --validate");
  EXPECT_NE(validated.exit_code, 0);
  EXPECT_EQ(validated.out, "");  // nothing was written before the file could be read back
  CommandResult ok = Rivet("run -c " + config + " --validate");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("validated:   pass"), std::string::npos) << ok.err;
  EXPECT_EQ(ok.out, streamed.out);
}

// Parallel chunks to stdout: each file follows the one before it, never interleaved (each
// chunk is a few MB, far beyond one 1 MiB flush).
TEST_F(PostgresRunTest, ParallelChunksOnStdoutFollowOneAnother) {
  std::string config = WriteConfig(R"(  - name: piped
    query: "SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g"
    mode: chunked
    chunk_column: id
    chunk_size: 50000
    parallel: 2
    format: csv
    destination:
      type: stdout
)");
  CommandResult r = Rivet("run -c " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = SplitLines(r.out);
  std::set<int64_t> ids;
  size_t headers = 0;
  const std::regex row("([0-9]+),[0-9a-f]{32}");
  for (const std::string& line : lines) {
    std::smatch m;
    if (line == "id,v") {
      ++headers;
    } else if (std::regex_match(line, m, row)) {
      EXPECT_TRUE(ids.insert(std::stoll(m[1])).second) << "twice: " << line;
    } else {
      ADD_FAILURE() << "a torn line: " << line.substr(0, 80);
      break;
    }
  }
  EXPECT_EQ(headers, 4u);  // one per chunk with rows
  EXPECT_EQ(ids.size(), 200000u);
}

TEST_F(PostgresRunTest, AClosedStdoutPipeIsACleanFailure) {
  std::string config = WriteConfig(R"(  - name: piped
    query: "SELECT g AS id, repeat('x', 40) AS t FROM generate_series(1, 200000) g"
    format: csv
    destination:
      type: stdout
)");
  // `head` leaves after 100 bytes; rivet must then fail with a message, not die of SIGPIPE.
  std::string code_file = dir_ + "/code";
  std::string err_file = dir_ + "/err";
  CommandResult r =
      RunCommand("{ RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY + " run -c " + config +
                 " 2>" + err_file + "; echo $? > " + code_file + "; } | head -c 100 > /dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(code_file), "1\n");
  std::string err = ReadFile(err_file);
  EXPECT_NE(err.find("cannot write to stdout"), std::string::npos) << err;
  EXPECT_NE(err.find("status:      failed"), std::string::npos) << err;
}

// SIGINT and SIGTERM while chunks stream: the queries are cancelled, the staged files removed,
// the run recorded as failed with the reason, and the exit code says which signal.
TEST_F(PostgresRunTest, ASignalStopsCleanlyWithItsExitCode) {
  for (const auto& [signal, code] : {std::pair{"INT", 130}, std::pair{"TERM", 143}}) {
    std::string out = dir_ + "/sig" + signal;
    std::string config = WriteConfig(
        "  - name: slow\n"
        "    query: SELECT g AS id, repeat('x', 100) AS t FROM generate_series(1, 5000000) g\n"
        "    mode: chunked\n    chunk_column: id\n    chunk_size: 1000000\n    parallel: 2\n"
        "    format: csv\n    tuning: {batch_size: 1000, throttle_ms: 20}\n"
        "    destination: {type: local, path: " +
        out + "}\n");
    // Started in the background; the signal is sent once a staged file shows the export runs
    // (the wait is bounded: 600 polls of 0.05 s).
    std::string script =
        "RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY + " run -c " + config +
        " >/dev/null 2>" + dir_ + "/err & P=$!; i=0; while [ $i -lt 600 ] && ! ls -a " + out +
        " 2>/dev/null | grep -q rivet-tmp; do sleep 0.05; i=$((i+1)); done; kill -" + signal +
        " $P; wait $P; echo $?";
    CommandResult r = RunCommand(script);
    EXPECT_EQ(r.out, std::to_string(code) + "\n") << ReadFile(dir_ + "/err");
    std::string err = ReadFile(dir_ + "/err");
    EXPECT_NE(err.find(std::string("interrupted by SIG") + signal), std::string::npos) << err;
    for (const std::string& f : ListDir(out)) {
      EXPECT_EQ(f.find(".rivet-tmp"), std::string::npos) << "staging file left: " << f;
    }
    CommandResult metrics = Rivet("metrics -c " + config + " -e slow -l 1");
    EXPECT_NE(metrics.out.find("failed"), std::string::npos) << metrics.out;
    EXPECT_NE(metrics.out.find(std::string("interrupted by SIG") + signal), std::string::npos)
        << metrics.out;
    fs::remove(config);
    fs::remove(dir_ + "/.rivet_state.db");
  }
}

// kill -9 leaves the staged file behind: it ends in .partial, so a reader's *.parquet glob
// never picks up the half-written file, and the export's next run removes it.
TEST_F(PostgresRunTest, AKilledRunLeavesOnlyAPartialFileThatTheNextRunRemoves) {
  const std::string out = dir_ + "/killed";
  auto config_for = [&](const std::string& query) {
    return WriteConfig("  - name: slow\n    query: " + query +
                       "\n    format: parquet\n    tuning: {batch_size: 1000, throttle_ms: 20}\n"
                       "    destination: {type: local, path: " +
                       out + "}\n");
  };
  std::string config =
      config_for("SELECT g AS id, repeat('x', 100) AS t FROM generate_series(1, 5000000) g");
  std::string script = "RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY + " run -c " +
                       config + " >/dev/null 2>" + dir_ + "/err & P=$!; i=0; while [ $i -lt 600 ]" +
                       " && ! ls -a " + out + " 2>/dev/null | grep -q rivet-tmp; do sleep 0.05; " +
                       "i=$((i+1)); done; kill -KILL $P; wait $P; echo $?";
  CommandResult r = RunCommand(script);
  ASSERT_EQ(r.out, "137\n") << ReadFile(dir_ + "/err");
  std::vector<std::string> left = ListDir(out);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].rfind(".rivet-tmp-", 0), 0u) << left[0];
  EXPECT_TRUE(left[0].ends_with(".parquet.partial")) << left[0];
  fs::remove(config);
  config = config_for("SELECT 1 AS id");
  CommandResult next = Rivet("run -c " + config);
  ASSERT_EQ(next.exit_code, 0) << next.err;
  left = ListDir(out);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].starts_with("slow_") && left[0].ends_with(".parquet")) << left[0];
}

TEST_F(PostgresRunTest, NeverOverwritesAndNamesEachRunDistinctly) {
  std::string config = WriteConfig(kCsvExport);
  for (int i = 0; i < 3; ++i) {
    CommandResult r = Rivet("run -c " + config);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<std::string> files = ListDir(dir_ + "/out");
  EXPECT_EQ(files.size(), 3u);
  for (const std::string& f : files) EXPECT_EQ(f.find(".rivet-tmp"), std::string::npos) << f;
}

TEST_F(PostgresRunTest, UnknownExportListsTheKnownOnes) {
  std::string config = WriteConfig(kCsvExport);
  CommandResult r = Rivet("run -c " + config + " --export nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no export named 'nope'; known exports: types"), std::string::npos) << r.err;
}

TEST_F(PostgresRunTest, AFailedExportDoesNotStopTheNextAndSetsTheExitCode) {
  std::string config = WriteConfig(R"(  - name: broken
    query: "SELECT * FROM no_such_table_here"
    format: csv
    destination:
      type: local
      path: out
  - name: fine
    query: "SELECT 1 AS one"
    format: csv
    destination:
      type: local
      path: out
)");
  CommandResult r = Rivet("run -c " + config);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no_such_table_here"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("── fine ──\n  run_id:      fine_"), std::string::npos) << r.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("fine_", 0), 0u);
}

TEST_F(PostgresRunTest, ZeroRowsWriteAHeaderOrSkip) {
  std::string config = WriteConfig(R"(  - name: empty_file
    query: "SELECT id, t FROM rivet_e2e_types WHERE false"
    format: csv
    destination:
      type: local
      path: out
  - name: empty_skipped
    query: "SELECT id FROM rivet_e2e_types WHERE false"
    format: csv
    skip_empty: true
    destination:
      type: local
      path: skipped
)");
  CommandResult r = Rivet("run -c " + config + " --validate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(dir_ + "/out/" + files[0]), "id,t\n");
  EXPECT_TRUE(ListDir(dir_ + "/skipped").empty());
  EXPECT_NE(r.err.find("status:      skipped"), std::string::npos) << r.err;
}

TEST_F(PostgresRunTest, StateCommandsShowTheRunsAndFiles) {
  std::string config = WriteConfig(kCsvExport);
  ASSERT_EQ(Rivet("run -c " + config).exit_code, 0);

  CommandResult metrics = Rivet("metrics -c " + config);
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_EQ(
      metrics.out.rfind("EXPORT               STATUS           ROWS   DURATION      RSS  FILES"
                        "      BYTES RUN ID\n",
                        0),
      0u)
      << metrics.out;
  EXPECT_TRUE(std::regex_search(metrics.out, std::regex(R"(\ntypes\s+success\s+5\s)")))
      << metrics.out;

  CommandResult files = Rivet("state files -c " + config);
  ASSERT_EQ(files.exit_code, 0) << files.err;
  std::vector<std::string> names = ListDir(dir_ + "/out");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_NE(files.out.find(names[0]), std::string::npos) << files.out;

  CommandResult show = Rivet("state show -c " + config);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out, "No export state recorded yet.\n");

  CommandResult reset = Rivet("state reset -c " + config + " -e nope");
  EXPECT_EQ(reset.exit_code, 2);
  EXPECT_NE(reset.err.find("types"), std::string::npos) << reset.err;

  CommandResult empty = Rivet("metrics -c " + config + " -e other");
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "No metrics recorded yet.\n");
}

TEST_F(PostgresRunTest, SchemaChangesAreDetected) {
  PgClient pg(url_);
  ASSERT_EQ(pg.Exec("DROP TABLE IF EXISTS rivet_e2e_schema; "
                    "CREATE TABLE rivet_e2e_schema (id int, price float8, old_field text)"),
            "");
  std::string config = WriteConfig(R"(  - name: evolving
    query: "SELECT * FROM rivet_e2e_schema"
    format: csv
    destination:
      type: local
      path: out
)");
  CommandResult first = Rivet("run -c " + config);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("schema:      unchanged"), std::string::npos) << first.err;
  ASSERT_EQ(pg.Exec("ALTER TABLE rivet_e2e_schema DROP COLUMN old_field, ADD COLUMN phone text, "
                    "ALTER COLUMN price TYPE text"),
            "");
  CommandResult second = Rivet("run -c " + config);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("schema:      CHANGED"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("added columns: phone (string)"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("removed columns: old_field"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("type changed: price (float64 -> string)"), std::string::npos)
      << second.err;
  CommandResult third = Rivet("run -c " + config);
  EXPECT_NE(third.err.find("schema:      unchanged"), std::string::npos) << third.err;
}

TEST_F(PostgresRunTest, PasswordsNeverLeak) {
  auto pw_url = EnvVar("RIVET_TEST_PG_PW_URL");
  ASSERT_TRUE(pw_url.has_value()) << "scripts/servers/postgres.sh writes RIVET_TEST_PG_PW_URL";
  const std::string password = "s3cret-pw";
  ASSERT_NE(pw_url->find(password), std::string::npos);
  PgClient pg(url_);
  ASSERT_EQ(pg.Exec("GRANT SELECT ON rivet_e2e_types TO rivet_pw"), "");
  std::string wrong_url = *pw_url;
  wrong_url.replace(wrong_url.find(password), password.size(), "wr0ng-pw");

  const std::string exports = R"(  - name: good
    query: "SELECT id, t FROM rivet_e2e_types"
    format: csv
    destination:
      type: local
      path: out
  - name: bad_query
    query: "SELECT * FROM no_such_table"
    format: csv
    destination:
      type: local
      path: out
)";
  // 1. URL from the environment, with a good and a failing export.
  std::string config = WriteConfig(exports);
  CommandResult env_run = Rivet("run -c " + config, *pw_url);
  EXPECT_EQ(env_run.exit_code, 1) << env_run.err;
  EXPECT_NE(env_run.err.find("── good ──\n  run_id:      good_"), std::string::npos) << env_run.err;
  EXPECT_EQ(OutputAndStateFiles(env_run, dir_).find(password), std::string::npos) << env_run.err;

  // 2. URL written in the config file (warned about), then a wrong password.
  std::string in_file = dir_ + "/in_file.yaml";
  WriteFile(in_file, "source:\n  type: postgres\n  url: \"" + *pw_url + "\"\nexports:\n" + exports);
  CommandResult file_run = Rivet("run -c " + in_file + " --validate");
  EXPECT_EQ(file_run.exit_code, 1) << file_run.err;
  CommandResult metrics = Rivet("metrics -c " + in_file);
  EXPECT_EQ(OutputAndStateFiles(file_run, dir_).find(password), std::string::npos) << file_run.err;
  EXPECT_EQ(OutputAndStateFiles(metrics, dir_).find(password), std::string::npos) << metrics.out;

  // 3. Structured fields with password_env and a wrong password: an auth failure.
  std::string structured = dir_ + "/structured.yaml";
  std::string port = EnvVar("RIVET_TEST_PG_PORT").value_or("5432");
  WriteFile(structured, "source:\n  type: postgres\n  host: 127.0.0.1\n  port: " + port +
                            "\n  user: rivet_pw\n  database: rivet_test\n"
                            "  password_env: RIVET_E2E_PW\nexports:\n" +
                            exports);
  CommandResult auth = RunCommand("RIVET_E2E_PW=wr0ng-pw " + std::string(RIVET_BINARY) +
                                  " run -c " + structured + " -e good");
  EXPECT_EQ(auth.exit_code, 1) << auth.err;
  EXPECT_NE(auth.err.find("password authentication failed"), std::string::npos) << auth.err;
  EXPECT_EQ(OutputAndStateFiles(auth, dir_).find("wr0ng-pw"), std::string::npos) << auth.err;
  CommandResult wrong = Rivet("run -c " + config + " -e good", wrong_url);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  EXPECT_EQ(OutputAndStateFiles(wrong, dir_).find("wr0ng-pw"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace rivet::testing
