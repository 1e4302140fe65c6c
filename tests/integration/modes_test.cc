// The export modes end to end, on PostgreSQL and MariaDB: incremental cursors of every type over
// several runs, time_window bounds, chunked exports over awkward keys, one snapshot for every
// chunk while another session moves money between rows, and a worker's connection killed
// mid-chunk. Every row carries its serial `g`; files are read back and compared with the source.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "support/csv_reader.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;

class ModesTest : public ::testing::TestWithParam<Engine> {
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
    if (pg()) {
      ASSERT_EQ(Sql("DROP SCHEMA IF EXISTS rivet_modes CASCADE; CREATE SCHEMA rivet_modes"), "");
    }
    dir_ = MakeTempDir(std::string("modes-") + GetParam().name);
  }

  bool pg() const { return GetParam().postgres(); }
  // The test's own table: rivet_modes.NAME on PostgreSQL, rivet_modes_NAME on MariaDB.
  std::string Table(const std::string& name) const {
    return pg() ? "rivet_modes." + name : "rivet_modes_" + name;
  }
  std::string Sql(const std::string& sql) { return db_->Exec(sql); }
  // Creates the test's table (MariaDB keeps tables between runs; the PostgreSQL schema is new).
  std::string CreateTable(const std::string& table, const std::string& columns) {
    return Sql((pg() ? "" : "DROP TABLE IF EXISTS " + table + ";") + "CREATE TABLE " + table +
               " (" + columns + ")");
  }
  // Inserts one row per g = 1..n; `values` is the select list over g.
  std::string InsertSeries(const std::string& table, int n, const std::string& values) {
    return Sql(pg() ? fmt::format("INSERT INTO {} SELECT {} FROM generate_series(1, {}) g", table,
                                  values, n)
                    : fmt::format("INSERT INTO {} SELECT {} FROM (SELECT seq AS g FROM "
                                  "seq_1_to_{}) s",
                                  table, values, n));
  }

  std::string WriteConfig(const std::string& exports) {
    const std::string path = dir_ + "/rivet.yaml";
    WriteFile(path, fmt::format("source:\n  type: {}\n  url_env: RIVET_E2E_URL\n"
                                "  tuning: {{max_retries: 3, retry_backoff_ms: 10}}\n"
                                "exports:\n{}",
                                GetParam().source_type, exports));
    return path;
  }

  CommandResult Rivet(const std::string& args) {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY + " " + args +
                      " -c " + dir_ + "/rivet.yaml");
  }

  // Each CSV file of `out` (relative to the test folder) with the `g` of its rows.
  std::map<std::string, std::vector<int64_t>> FilesIn(const std::string& out) {
    std::map<std::string, std::vector<int64_t>> files;
    for (const std::string& name : ListDir(dir_ + "/" + out)) {
      EXPECT_EQ(name.find(".rivet-tmp"), std::string::npos) << "staging file left: " << name;
      std::vector<CsvRow> rows = ParseCsv(ReadFile(dir_ + "/" + out + "/" + name));
      std::vector<int64_t>& gs = files[name];
      if (rows.empty()) continue;
      size_t column = 0;
      while (column < rows[0].size() && rows[0][column] != "g") ++column;
      EXPECT_LT(column, rows[0].size()) << name << " has no column g";
      for (size_t i = 1; i < rows.size() && column < rows[0].size(); ++i) {
        gs.push_back(std::stoll(rows[i][column].value_or("0")));
      }
    }
    return files;
  }
  // Every g of `out`, sorted, duplicates kept.
  std::vector<int64_t> AllRows(const std::string& out) {
    std::vector<int64_t> all;
    for (const auto& [name, gs] : FilesIn(out)) all.insert(all.end(), gs.begin(), gs.end());
    std::sort(all.begin(), all.end());
    return all;
  }
  // The g of the source rows matching `where`, sorted.
  std::vector<int64_t> SourceRows(const std::string& table, const std::string& where = "1 = 1") {
    std::vector<int64_t> gs;
    for (const CsvRow& row : db_->Query("SELECT g FROM " + table + " WHERE " + where)) {
      gs.push_back(std::stoll(row.at(0).value_or("0")));
    }
    std::sort(gs.begin(), gs.end());
    return gs;
  }

  std::string url_;
  std::string dir_;
  std::unique_ptr<SqlClient> db_;
};

// --- incremental ----------------------------------------------------------------------------

// One cursor column of every supported kind; each increases with g. The timestamptz column is
// written with a +05:30 offset; the text one holds a quote and a backslash.
constexpr std::array<const char*, 6> kCursorColumns = {"SeqNo", "num", "d", "ts", "tstz", "txt"};

TEST_P(ModesTest, IncrementalCursorsOfEveryTypeExportEachRowOnceOverThreeRuns) {
  const std::string table = Table("inc");
  if (pg()) {
    ASSERT_EQ(Sql("CREATE TABLE " + table +
                  " (g int, \"SeqNo\" bigint, num numeric(20,6), d date, ts timestamp(6), "
                  "tstz timestamptz(6), txt varchar(40));"
                  // The server's zone for new sessions is far from UTC: rivet's must not care.
                  "ALTER ROLE CURRENT_USER SET TimeZone = 'Asia/Kolkata'"),
              "");
  } else {
    ASSERT_EQ(Sql("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table +
                  " (g INT, SeqNo BIGINT, num DECIMAL(20,6), d DATE, ts DATETIME(6), "
                  "tstz TIMESTAMP(6) NULL, txt VARCHAR(40)) CHARACTER SET utf8mb4;"
                  "SET GLOBAL time_zone = '+05:30'"),
              "");
  }
  auto insert_batch = [&](int b) {
    const int lo = 100 * b + 1;
    const int hi = 100 * b + 20;
    if (pg()) {
      return Sql(
          fmt::format("INSERT INTO {} SELECT g, g, g + 0.123456, date '2026-01-01' + g, "
                      "timestamp '2026-01-01 00:00:00.000001' + g * interval '1 minute', "
                      "timestamptz '2026-01-01 00:00:00.000001+05:30' + g * interval '61 seconds', "
                      "'O''Brien\\' || lpad(g::text, 6, '0') FROM generate_series({}, {}) g",
                      table, lo, hi));
    }
    return Sql(fmt::format(
        "SET time_zone = '+05:30';"
        "INSERT INTO {} SELECT seq, seq, seq + 0.123456, DATE '2026-01-01' + INTERVAL seq DAY, "
        "TIMESTAMP '2026-01-01 00:00:00.000001' + INTERVAL seq MINUTE, "
        "TIMESTAMP '2026-01-01 00:00:00.000001' + INTERVAL (61 * seq) SECOND, "
        "CONCAT('O''Brien\\\\', LPAD(seq, 6, '0')) FROM seq_{}_to_{};"
        "SET time_zone = '+00:00'",
        table, lo, hi));
  };
  std::string exports;
  for (const char* column : kCursorColumns) {
    exports += fmt::format(
        "  - name: inc_{0}\n    query: SELECT * FROM {1}\n    mode: incremental\n"
        "    cursor_column: {0}\n    format: csv\n    skip_empty: true\n"
        "    destination: {{type: local, path: out_{0}}}\n",
        column, table);
  }
  WriteConfig(exports);

  std::vector<std::set<int64_t>> batches;
  for (int b = 1; b <= 3; ++b) {
    ASSERT_EQ(insert_batch(b), "");
    std::set<int64_t> batch;
    for (int g = 100 * b + 1; g <= 100 * b + 20; ++g) batch.insert(g);
    batches.push_back(batch);
    CommandResult r = Rivet("run");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const char* column : kCursorColumns) {
    SCOPED_TRACE(column);
    std::map<std::string, std::vector<int64_t>> files = FilesIn(std::string("out_") + column);
    ASSERT_EQ(files.size(), 3u);
    size_t i = 0;
    for (const auto& [name, gs] : files) {  // names sort by run time
      EXPECT_EQ(std::set<int64_t>(gs.begin(), gs.end()), batches[i]) << name;
      EXPECT_EQ(gs.size(), batches[i].size()) << name;
      ++i;
    }
  }

  // The stored cursors: exact text, time ones in UTC with microseconds.
  CommandResult show = Rivet("state show");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const std::string tstz =
      pg() ? db_->Scalar(
                 "SELECT to_char(max(tstz) AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM " +
                 table)
           : db_->Scalar("SELECT DATE_FORMAT(MAX(tstz), '%Y-%m-%dT%H:%i:%s.%f') FROM " + table);
  ASSERT_FALSE(tstz.empty());
  for (const std::string& expected :
       {std::string("320"), std::string("320.123456"), std::string("2026-11-17"),
        std::string("2026-01-01T05:20:00.000001"), tstz, std::string("O'Brien\\000320")}) {
    EXPECT_NE(show.out.find(expected), std::string::npos) << expected << "\n" << show.out;
  }

  // No new rows: no file, status skipped, cursors unchanged.
  CommandResult again = Rivet("run -e inc_txt");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("status:      skipped"), std::string::npos) << again.err;
  EXPECT_EQ(FilesIn("out_txt").size(), 3u);
  EXPECT_EQ(Rivet("state show").out, show.out);

  if (pg()) {
    EXPECT_EQ(Sql("ALTER ROLE CURRENT_USER RESET TimeZone"), "");
  } else {
    EXPECT_EQ(Sql("SET GLOBAL time_zone = 'SYSTEM'"), "");
  }
}

TEST_P(ModesTest, AFailedRunLeavesTheCursorWhereItWas) {
  const std::string table = Table("inc_fail");
  ASSERT_EQ(CreateTable(table, "g INT"), "");
  ASSERT_EQ(Sql("INSERT INTO " + table + " VALUES (1), (2), (3)"), "");
  const std::string exports = "  - name: inc\n    query: SELECT g FROM " + table +
                              "\n    mode: incremental\n    cursor_column: g\n    format: csv\n"
                              "    destination: {type: local, path: ";
  WriteConfig(exports + "out}\n");
  ASSERT_EQ(Rivet("run").exit_code, 0);
  const std::string before = Rivet("state show").out;
  ASSERT_NE(before.find(" 3 "), std::string::npos) << before;

  // The destination cannot be written (its parent is a regular file: root or not).
  ASSERT_EQ(Sql("INSERT INTO " + table + " VALUES (4), (5)"), "");
  WriteFile(dir_ + "/blocker", "not a folder");
  WriteConfig(exports + "blocker/out}\n");
  CommandResult failed = Rivet("run");
  EXPECT_NE(failed.exit_code, 0) << failed.err;
  const std::string after = Rivet("state show").out;
  EXPECT_EQ(after, before);

  WriteConfig(exports + "out}\n");
  ASSERT_EQ(Rivet("run").exit_code, 0);
  EXPECT_EQ(AllRows("out"), (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

// --- time_window ----------------------------------------------------------------------------

TEST_P(ModesTest, TimeWindowTakesRowsFromUtcMidnightDaysAgoForBothColumnTypes) {
  const std::string table = Table("tw");
  ASSERT_EQ(CreateTable(table, std::string("g INT, ts ") + (pg() ? "timestamp" : "DATETIME") +
                                   ", ep BIGINT"),
            "");
  WriteConfig(fmt::format(
      "  - name: tw_ts\n    query: SELECT g, ts FROM {0}\n    mode: time_window\n"
      "    time_column: ts\n    days_window: 2\n    format: csv\n"
      "    destination: {{type: local, path: out_ts}}\n"
      "  - name: tw_unix\n    query: SELECT g, ep FROM {0}\n    mode: time_window\n"
      "    time_column: ep\n    time_column_type: unix\n    days_window: 2\n    format: csv\n"
      "    destination: {{type: local, path: out_unix}}\n",
      table));
  // A run that straddles UTC midnight sees another bound: try again (at most three times).
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto now = std::chrono::system_clock::now();
    const int64_t day =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() / 86400;
    const int64_t bound = (day - 2) * 86400;
    ASSERT_EQ(Sql("DELETE FROM " + table), "");
    // g = 1: a second before the bound; 2: at it; 3: a second after; 4: yesterday 01:00.
    const std::vector<int64_t> at = {bound - 1, bound, bound + 1, day * 86400 + 3600 - 86400};
    for (size_t i = 0; i < at.size(); ++i) {
      const std::string ts =
          pg() ? fmt::format("to_timestamp({}) AT TIME ZONE 'UTC'", at[i])
               : fmt::format("FROM_UNIXTIME({})", at[i]);  // the client's session is UTC
      ASSERT_EQ(Sql(fmt::format("INSERT INTO {} VALUES ({}, {}, {})", table, i + 1, ts, at[i])),
                "");
    }
    fs::remove_all(dir_ + "/out_ts");
    fs::remove_all(dir_ + "/out_unix");
    CommandResult r = Rivet("run");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const int64_t day_after = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() /
                              86400;
    if (day_after != day) continue;
    EXPECT_EQ(AllRows("out_ts"), (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(AllRows("out_unix"), (std::vector<int64_t>{2, 3, 4}));
    return;
  }
  FAIL() << "every try straddled UTC midnight";
}

// --- chunked --------------------------------------------------------------------------------

TEST_P(ModesTest, ChunkedOverGapsNegativesAndNullsDeliversEveryRowOnceAndNoEmptyFile) {
  const std::string table = Table("chunks");
  ASSERT_EQ(CreateTable(table, "g INT, id BIGINT"), "");
  // Keys -50..-41, 0, 1000..1010, 5000, and three NULLs: most windows of 7 are empty.
  std::string values;
  int g = 0;
  auto add = [&](const std::string& id) {
    values += fmt::format("{}({}, {})", values.empty() ? "" : ", ", ++g, id);
  };
  for (int id = -50; id <= -41; ++id) add(std::to_string(id));
  add("0");
  for (int id = 1000; id <= 1010; ++id) add(std::to_string(id));
  add("5000");
  for (int i = 0; i < 3; ++i) add("NULL");
  ASSERT_EQ(Sql("INSERT INTO " + table + " VALUES " + values), "");
  WriteConfig("  - name: ch\n    query: SELECT g, id FROM " + table +
              "\n    mode: chunked\n    chunk_column: id\n    chunk_size: 7\n    parallel: 4\n"
              "    format: csv\n    destination: {type: local, path: out}\n");
  CommandResult r = Rivet("run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("consistency: snapshot"), std::string::npos) << r.err;
  EXPECT_EQ(AllRows("out"), SourceRows(table));

  // One file per non-empty window ((id + 50) / 7 distinct), plus the NULL chunk; none empty.
  std::set<int64_t> windows;
  for (const CsvRow& row : db_->Query("SELECT id FROM " + table + " WHERE id IS NOT NULL")) {
    windows.insert((std::stoll(*row.at(0)) + 50) / 7);
  }
  std::map<std::string, std::vector<int64_t>> files = FilesIn("out");
  EXPECT_EQ(files.size(), windows.size() + 1);
  const std::regex chunk_name(".*_chunk[0-9]+\\.csv");
  for (const auto& [name, gs] : files) {
    EXPECT_TRUE(std::regex_match(name, chunk_name)) << name;
    EXPECT_FALSE(gs.empty()) << name;
  }
}

TEST_P(ModesTest, AllChunksReadOneSnapshotWhileAnotherSessionMovesMoney) {
  const std::string table = Table("accounts");
  constexpr int kAccounts = 2000;
  constexpr int64_t kTotal = int64_t{kAccounts} * 1000;
  ASSERT_EQ(CreateTable(table, "g INT PRIMARY KEY, balance BIGINT NOT NULL"), "");
  ASSERT_EQ(InsertSeries(table, kAccounts, "g, 1000"), "");
  // Slow enough (small batches, a pause after each) that the transfers overlap the export.
  WriteConfig("  - name: acc\n    query: SELECT g, balance FROM " + table +
              "\n    mode: chunked\n    chunk_column: g\n    chunk_size: 250\n    parallel: 4\n"
              "    format: csv\n    tuning: {batch_size: 20, throttle_ms: 15}\n"
              "    destination: {type: local, path: out}\n");

  std::atomic<bool> done{false};
  std::atomic<int> transfers{0};
  std::string mover_error;
  std::thread mover([&] {
    SqlClient other(GetParam(), url_);
    if (!other.ok()) {
      mover_error = other.error();
      return;
    }
    std::mt19937 random(7);
    std::uniform_int_distribution<int> account(1, kAccounts);
    // Bounded: stops when the export ends, or after 20,000 transfers.
    for (int i = 0; i < 20000 && !done; ++i) {
      const int from = account(random);
      const int to = (from + kAccounts / 2 - 1) % kAccounts + 1;  // always another chunk
      const std::string error =
          other.Exec(fmt::format("{}; UPDATE {} SET balance = balance - 7 WHERE g = {}; "
                                 "UPDATE {} SET balance = balance + 7 WHERE g = {}; COMMIT",
                                 pg() ? "BEGIN" : "START TRANSACTION", table, from, table, to));
      if (!error.empty()) {
        mover_error = error;
        return;
      }
      ++transfers;
    }
  });
  const int before = transfers;
  CommandResult r = Rivet("run");
  const int during = transfers - before;
  done = true;
  mover.join();
  ASSERT_EQ(mover_error, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("consistency: snapshot"), std::string::npos) << r.err;
  EXPECT_GT(during, 20) << "the transfers did not overlap the export: the test proved nothing";

  int64_t total = 0;
  size_t rows = 0;
  for (const std::string& name : ListDir(dir_ + "/out")) {
    std::vector<CsvRow> csv = ParseCsv(ReadFile(dir_ + "/out/" + name));
    for (size_t i = 1; i < csv.size(); ++i) total += std::stoll(csv[i].at(1).value_or("0"));
    rows += csv.size() - 1;
  }
  EXPECT_EQ(rows, static_cast<size_t>(kAccounts));
  EXPECT_EQ(total, kTotal);
  EXPECT_EQ(db_->Scalar("SELECT SUM(balance) FROM " + table), std::to_string(kTotal));
}

TEST_P(ModesTest, AWorkerConnectionKilledMidChunkIsRetriedAndTheResultIsExact) {
  const std::string table = Table("kill_me");
  ASSERT_EQ(CreateTable(table, "g INT, id INT"), "");
  ASSERT_EQ(InsertSeries(table, 2000, "g, g"), "");
  // Wide rows: a chunk (10 MB) is larger than the socket buffers, so the server is still
  // sending (its statement active) while rivet reads slowly.
  WriteConfig("  - name: k\n    query: SELECT g, id, REPEAT('x', 20000) AS pad FROM " + table +
              "\n    mode: chunked\n    chunk_column: id\n    chunk_size: 500\n    parallel: 2\n"
              "    format: csv\n    tuning: {batch_size: 20, throttle_ms: 20}\n"
              "    destination: {type: local, path: out}\n");

  std::atomic<bool> done{false};
  std::atomic<bool> killed{false};
  std::thread killer([&] {
    SqlClient admin(GetParam(), url_);
    if (!admin.ok()) return;
    // The chunk statements name the table and a window (<=); the MIN/MAX one has none.
    const std::string find =
        pg() ? "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = "
               "'active' AND query LIKE '%kill_me%<=%' LIMIT 1"
             : "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND "
               "INFO LIKE '%kill_me%<=%' LIMIT 1";
    // Bounded: 400 polls of 20 ms. A statement seen twice 20 ms apart is still streaming (one
    // that fit in the socket buffers is already done on the server).
    std::string seen;
    for (int i = 0; i < 400 && !done && !killed; ++i) {
      const std::string id = admin.Scalar(find);
      if (!id.empty() && id == seen) {
        admin.Exec(pg() ? "SELECT pg_terminate_backend(" + id + ")" : "KILL " + id);
        killed = true;
      }
      seen = id;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  CommandResult r = Rivet("run");
  done = true;
  killer.join();
  ASSERT_TRUE(killed) << "no chunk statement was seen running";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("retries: +[1-9]"))) << r.err;
  // The killed try's file was discarded: every row exactly once.
  EXPECT_EQ(AllRows("out"), SourceRows(table));
}

INSTANTIATE_TEST_SUITE_P(Engines, ModesTest, ::testing::Values(kPostgres, kMysql),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace rivet::testing
