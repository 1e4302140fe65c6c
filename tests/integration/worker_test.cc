// --worker end to end: several rivet processes share one checkpointed chunk plan through a
// PostgreSQL state store (RIVET_STATE_URL, a schema of its own per test). Together they deliver
// every row exactly once (read back with DuckDB) and the run is recorded once; a worker killed
// with SIGKILL mid-chunk hands its chunk back when its lease runs out; a worker frozen past its
// lease (SIGSTOP, as a worker cut off from the store would be) cannot complete the chunk that
// was taken over.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/export_checks.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using std::chrono::milliseconds;

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    url_ = url;
    tools_ = tools;
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    state_schema_ = "rivet_worker_state_" + std::to_string(std::hash<std::string>{}(name) % 100000);
    db_ = std::make_unique<SqlClient>(kPostgres, url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    ASSERT_EQ(db_->Exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0};",
                                    state_schema_)),
              "");
    dir_ = MakeTempDir("worker");
  }
  void TearDown() override {
    if (db_) (void)db_->Exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", state_schema_));
  }

  // Table rivet_worker.<table>: ids 1..rows and one NULL id.
  void MakeTable(const std::string& table, int rows) {
    ASSERT_EQ(db_->Exec(fmt::format(
                  "CREATE SCHEMA IF NOT EXISTS rivet_worker; DROP TABLE IF EXISTS "
                  "rivet_worker.{0}; CREATE TABLE rivet_worker.{0} AS SELECT g AS id, md5(g::text)"
                  " AS s FROM generate_series(1, {1}) g; INSERT INTO rivet_worker.{0} VALUES "
                  "(NULL, 'no key')",
                  table, rows)),
              "");
  }
  // A checkpointed chunked export `w` of the table; `tuning` slows it down where a test needs
  // chunks that last.
  void WriteConfig(const std::string& table, int chunk_size, const std::string& tuning,
                   const std::string& export_extra = "") {
    WriteFile(
        dir_ + "/rivet.yaml",
        fmt::format("source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n  tuning: {}\n"
                    "exports:\n  - name: w\n    query: \"SELECT id, s FROM rivet_worker.{}\"\n"
                    "    mode: chunked\n    chunk_column: id\n    chunk_size: {}\n"
                    "    chunk_checkpoint: true\n    parallel: 2\n    format: parquet\n"
                    "    destination: {{type: local, path: ./out}}\n{}",
                    tuning, table, chunk_size, export_extra));
  }
  std::string Env() const {
    return "RIVET_E2E_URL=" + ShellQuote(url_) +
           " RIVET_STATE_URL=" + ShellQuote(url_ + "?options=-csearch_path%3D" + state_schema_);
  }
  std::string Command(const std::string& args, bool worker = true) const {
    return std::string(RIVET_BINARY) + " run -c " + dir_ + "/rivet.yaml" +
           (worker ? " --worker " : " ") + args;
  }
  // Starts a worker in the background, known by `tag` to Pid, Wait and Err.
  void Start(const std::string& tag, const std::string& args = "", bool worker = true) {
    runs_[tag] = StartBackground(dir_, tag, Env(), Command(args, worker));
  }
  int Pid(const std::string& tag) { return runs_[tag].Pid(); }
  int Wait(const std::string& tag) { return runs_[tag].Wait(); }
  std::string Err(const std::string& tag) { return runs_[tag].Err(); }
  // Waits until some chunk of the plan matches `condition` (on chunk_tasks).
  void WaitForChunk(const std::string& condition) {
    for (int i = 0; i < 400; ++i) {
      // Empty while the worker has not made the state tables yet.
      const std::string n = One(
          fmt::format("SELECT count(*) FROM {}.chunk_tasks WHERE {}", state_schema_, condition));
      if (!n.empty() && n != "0") return;
      std::this_thread::sleep_for(milliseconds(25));
    }
    FAIL() << "no chunk where " << condition;
  }
  // Some chunk is running (a worker holds a claim on it).
  void WaitForRunningChunk() { WaitForChunk("status = 'running'"); }
  std::string One(const std::string& sql) {
    auto rows = db_->Query(sql);
    if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
    return *rows[0][0];
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
  std::string state_schema_;
  std::unique_ptr<SqlClient> db_;
  std::map<std::string, Background> runs_;
};

TEST_F(WorkerTest, ThreeWorkersDeliverEveryRowOnceAndTheRunIsRecordedOnce) {
  MakeTable("three", 200000);
  WriteConfig("three", 10000, "{profile: fast}");
  for (const char* tag : {"a", "b", "c"}) Start(tag);
  int finishers = 0;
  for (const char* tag : {"a", "b", "c"}) {
    ASSERT_EQ(Wait(tag), 0) << Err(tag);
    finishers += Err(tag).find("it finished the plan") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(finishers, 1);
  EXPECT_EQ(IdTotals(tools_, dir_ + "/out/*.parquet"), "200001,200000,1,20000100000");
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.chunk_tasks WHERE status = 'completed'",
                            state_schema_)),
            "21");  // 20 windows and the NULL chunk
  EXPECT_EQ(One(fmt::format("SELECT status || ' ' || count(*) FROM {}.chunk_runs GROUP BY status",
                            state_schema_)),
            "completed 1");
  EXPECT_EQ(One(fmt::format("SELECT count(*) || ' ' || max(rows) FROM {}.runs", state_schema_)),
            "1 200001");
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.files", state_schema_)), "21");
}

// Slow chunks: 1,000-row batches with a 100 ms pause, 5,000 rows a chunk (about 0.5 s each).
constexpr const char* kSlow = "{batch_size: 1000, throttle_ms: 100}";

TEST_F(WorkerTest, AKilledWorkersChunkIsReclaimedAfterItsLease) {
  MakeTable("killed", 30000);
  WriteConfig("killed", 5000, kSlow);
  Start("a", "--lease-seconds 2");
  WaitForRunningChunk();
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_EQ(::kill(Pid("a"), SIGKILL), 0);
  EXPECT_EQ(Wait("a"), 128 + SIGKILL);
  Start("b", "--lease-seconds 2");
  ASSERT_EQ(Wait("b"), 0) << Err("b");
  EXPECT_NE(Err("b").find("it finished the plan"), std::string::npos) << Err("b");
  EXPECT_EQ(IdTotals(tools_, dir_ + "/out/*.parquet"), "30001,30000,1,450015000");
  // The killed worker's chunks were claimed twice: once by it, once by the worker that took
  // them over.
  EXPECT_NE(One(fmt::format("SELECT max(attempts) FROM {}.chunk_tasks", state_schema_)), "1");
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.runs", state_schema_)), "1");
}

TEST_F(WorkerTest, AChunkWhoseWorkersKeepDyingFailsForGoodAfterChunkMaxAttempts) {
  MakeTable("poison", 30000);
  WriteConfig("poison", 5000, kSlow, "    chunk_max_attempts: 2\n");
  for (const char* tag : {"a", "b"}) {
    Start(tag, "--lease-seconds 1");
    // Running on its first claim (a's), then on its second (b's).
    WaitForChunk(fmt::format("status = 'running' AND attempts = {}", tag[0] == 'a' ? 1 : 2));
    ASSERT_EQ(::kill(Pid(tag), SIGKILL), 0);
    EXPECT_EQ(Wait(tag), 128 + SIGKILL);
  }
  // Two claims of the chunk ended with a dead worker: the third worker fails it instead of
  // handing it on, and stops with the message.
  Start("c", "--lease-seconds 1");
  EXPECT_EQ(Wait("c"), 1) << Err("c");
  EXPECT_NE(Err("c").find("failed for good (claimed 2 times"), std::string::npos) << Err("c");
  EXPECT_NE(Err("c").find("--resume"), std::string::npos) << Err("c");
  EXPECT_EQ(One(fmt::format("SELECT status FROM {}.chunk_runs", state_schema_)), "in_progress");
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.runs", state_schema_)), "0");
  // One run without --worker continues the plan and delivers every row.
  Start("d", "--resume", /*worker=*/false);
  ASSERT_EQ(Wait("d"), 0) << Err("d");
  EXPECT_EQ(IdTotals(tools_, dir_ + "/out/*.parquet"), "30001,30000,1,450015000");
}

TEST_F(WorkerTest, AChunkTakenOverAfterItsFileWasDeliveredGetsAFileOfItsOwn) {
  MakeTable("delivered", 30000);
  WriteConfig("delivered", 5000, kSlow);
  Start("a", "--lease-seconds 1");
  WaitForChunk("status = 'completed'");
  ASSERT_EQ(::kill(Pid("a"), SIGKILL), 0);
  EXPECT_EQ(Wait("a"), 128 + SIGKILL);
  // The moment between delivery and record: the chunk's file is there, but the store still
  // has the chunk running under the dead worker's claim, with no manifest row.
  const std::string idx = One(
      fmt::format("SELECT min(idx) FROM {}.chunk_tasks WHERE status = 'completed'", state_schema_));
  const std::string rows =
      One(fmt::format("SELECT rows FROM {}.chunk_tasks WHERE idx = {}", state_schema_, idx));
  ASSERT_EQ(db_->Exec(fmt::format(
                "UPDATE {0}.chunk_tasks SET status = 'running', claim_token = 'dead', "
                "lease_until_ms = 0 WHERE idx = {1}; DELETE FROM {0}.files WHERE file_name LIKE "
                "'%\\_chunk{1}.parquet'",
                state_schema_, idx)),
            "");

  Start("b", "--lease-seconds 1");
  ASSERT_EQ(Wait("b"), 0) << Err("b");
  // Nothing was overwritten: the dead worker's file stays beside the new one (at least once),
  // and the manifest names the completing claim's file.
  const std::string totals = IdTotals(tools_, dir_ + "/out/*.parquet");
  EXPECT_EQ(totals.substr(0, totals.rfind(',')),
            fmt::format("{},30000,1", 30001 + std::stoi(rows)));  // count, distinct, NULLs
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.files WHERE file_name LIKE "
                            "'%\\_chunk{}\\_attempt2.parquet'",
                            state_schema_, idx)),
            "1");
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.files WHERE file_name LIKE "
                            "'%\\_chunk{}.parquet'",
                            state_schema_, idx)),
            "0");
  EXPECT_EQ(One(fmt::format("SELECT rows FROM {}.runs", state_schema_)), "30001");
}

TEST_F(WorkerTest, WorkersFinishAPlanLeftByAKilledRunWithoutWorker) {
  MakeTable("left", 20000);
  WriteConfig("left", 5000, kSlow);
  Start("a", "", /*worker=*/false);
  WaitForRunningChunk();
  ASSERT_EQ(::kill(Pid("a"), SIGKILL), 0);
  EXPECT_EQ(Wait("a"), 128 + SIGKILL);
  // Its running chunk has no lease: the workers take it over instead of waiting for ever.
  Start("b", "--lease-seconds 2");
  Start("c", "--lease-seconds 2");
  ASSERT_EQ(Wait("b"), 0) << Err("b");
  ASSERT_EQ(Wait("c"), 0) << Err("c");
  EXPECT_EQ(IdTotals(tools_, dir_ + "/out/*.parquet"), "20001,20000,1,200010000");
  EXPECT_EQ(One(fmt::format("SELECT status FROM {}.chunk_runs", state_schema_)), "completed");
}

TEST_F(WorkerTest, AWorkerFrozenPastItsLeaseCannotCompleteTheChunkTakenOver) {
  MakeTable("frozen", 20000);
  WriteConfig("frozen", 5000, kSlow);
  Start("a", "--lease-seconds 1");
  WaitForRunningChunk();
  const int a = Pid("a");
  ASSERT_EQ(::kill(a, SIGSTOP), 0);
  Start("b", "--lease-seconds 1");
  const int b_rc = Wait("b");
  ASSERT_EQ(::kill(a, SIGCONT), 0);
  ASSERT_EQ(b_rc, 0) << Err("b");
  ASSERT_EQ(Wait("a"), 0) << Err("a");
  EXPECT_NE(Err("a").find("taken over by another worker"), std::string::npos) << Err("a");
  EXPECT_NE(Err("b").find("it finished the plan"), std::string::npos) << Err("b");
  EXPECT_EQ(IdTotals(tools_, dir_ + "/out/*.parquet"), "20001,20000,1,200010000");
  // Every completion, and every manifest row, is the surviving claim's.
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.files", state_schema_)), "5");
  EXPECT_EQ(One(fmt::format("SELECT count(*) FROM {}.runs", state_schema_)), "1");
}

TEST_F(WorkerTest, WhatCannotBeAWorkerIsRefused) {
  MakeTable("refused", 10);
  WriteFile(dir_ + "/rivet.yaml",
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\nexports:\n  - name: full\n"
            "    query: \"SELECT id FROM rivet_worker.refused\"\n"
            "    destination: {type: local, path: ./out}\n");
  CommandResult r = RunCommand(Env() + " " + Command(""));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("export 'full' is not a chunked export with chunk_checkpoint: true"),
            std::string::npos)
      << r.err;
  WriteConfig("refused", 5, "{profile: fast}");
  CommandResult both = RunCommand(Env() + " " + Command("--resume"));
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("cannot be combined with --resume"), std::string::npos) << both.err;
}

// rivet state migrate: the SQLite state of runs, files, a cursor and a checkpoint plan, copied
// into PostgreSQL, prints the same through every state command; a second copy is refused; the
// target's password appears nowhere.
TEST_F(WorkerTest, StateMigrateKeepsCursorsFilesMetricsAndPlans) {
  RIVET_REQUIRE_ENV(pw_url, "RIVET_TEST_PG_PW_URL");
  MakeTable("migrated", 3000);
  ASSERT_EQ(db_->Exec(fmt::format("GRANT ALL ON SCHEMA {} TO rivet_pw", state_schema_)), "");
  WriteFile(dir_ + "/rivet.yaml",
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\nexports:\n"
            "  - name: w\n    query: \"SELECT id, s FROM rivet_worker.migrated\"\n"
            "    mode: chunked\n    chunk_column: id\n    chunk_size: 1000\n"
            "    chunk_checkpoint: true\n    destination: {type: local, path: ./out}\n"
            "  - name: inc\n    query: \"SELECT id, s FROM rivet_worker.migrated\"\n"
            "    mode: incremental\n    cursor_column: id\n"
            "    destination: {type: local, path: ./inc}\n");
  const std::string sqlite_env = "RIVET_E2E_URL=" + ShellQuote(url_) + " env -u RIVET_STATE_URL";
  const std::string rivet = std::string(RIVET_BINARY);
  const std::string config = " -c " + dir_ + "/rivet.yaml";
  ASSERT_EQ(RunCommand(sqlite_env + " " + rivet + " run" + config).exit_code, 0);
  const std::vector<std::string> views = {"metrics", "state show", "state files -l 100",
                                          "state chunks -e w"};
  std::vector<std::string> before;
  for (const std::string& v : views) {
    before.push_back(RunCommand(sqlite_env + " " + rivet + " " + v + config).out);
  }
  const std::string target = std::string(pw_url) + "?options=-csearch_path%3D" + state_schema_;
  CommandResult copied = RunCommand(sqlite_env + " " + rivet + " state migrate" + config +
                                    " --to " + ShellQuote(target));
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_NE(copied.out.find("2 runs, 5 files, 1 cursors, 2 schema history entries, 1 chunk "
                            "plans (4 chunks)"),
            std::string::npos)
      << copied.out;
  CommandResult again = RunCommand(sqlite_env + " " + rivet + " state migrate" + config + " --to " +
                                   ShellQuote(target));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already holds runs"), std::string::npos) << again.err;
  for (const CommandResult& r : {copied, again}) {
    EXPECT_EQ((r.out + r.err).find("s3cret-pw"), std::string::npos) << r.out << r.err;
  }
  const std::string pg_env = "RIVET_STATE_URL=" + ShellQuote(target);
  for (size_t i = 0; i < views.size(); ++i) {
    CommandResult after = RunCommand(pg_env + " " + rivet + " " + views[i] + config);
    ASSERT_EQ(after.exit_code, 0) << after.err;
    if (views[i].starts_with("state chunks")) {
      // Only the first line names the store.
      EXPECT_EQ(after.out.substr(after.out.find('\n')), before[i].substr(before[i].find('\n')));
    } else {
      EXPECT_EQ(after.out, before[i]) << views[i];
    }
  }
  // The incremental export goes on from the migrated cursor: nothing new, nothing exported.
  MakeTable("unused", 1);
  CommandResult next = RunCommand(pg_env + " RIVET_E2E_URL=" + ShellQuote(url_) + " " + rivet +
                                  " run" + config + " -e inc");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.err.find("rows:        0"), std::string::npos) << next.err;
}

}  // namespace
}  // namespace rivet::testing
