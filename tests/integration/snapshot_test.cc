// rivet snapshot hold / rivet run --snapshot ID on a real PostgreSQL: workers that import the
// held snapshot read one state of a table that a writer keeps changing under a sum invariant;
// separate processes see the same snapshot; a run whose holder has ended fails clearly and
// writes nothing; the holder ends by itself after --for and on SIGTERM; bad ids and MySQL are
// refused before anything connects.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using std::chrono::milliseconds;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    url_ = url;
    tools_ = tools;
    db_ = std::make_unique<SqlClient>(kPostgres, url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    // 10,000 accounts of 100: the balances always sum to 1,000,000 between transactions.
    ASSERT_EQ(db_->Exec("DROP SCHEMA IF EXISTS rivet_snapshot CASCADE; CREATE SCHEMA "
                        "rivet_snapshot; CREATE TABLE rivet_snapshot.accounts AS SELECT g AS id, "
                        "100 AS balance FROM generate_series(1, 10000) g"),
              "");
    dir_ = MakeTempDir("snapshot");
    WriteFile(
        dir_ + "/rivet.yaml",
        "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\nexports:\n"
        "  - name: low\n    query: \"SELECT id, balance FROM rivet_snapshot.accounts WHERE "
        "id <= 5000\"\n    mode: chunked\n    chunk_column: id\n    chunk_size: 1000\n"
        "    parallel: 2\n    format: parquet\n    destination: {type: local, path: ./low}\n"
        "  - name: high\n    query: \"SELECT id, balance FROM rivet_snapshot.accounts WHERE "
        "id > 5000\"\n    mode: chunked\n    chunk_column: id\n    chunk_size: 1000\n"
        "    parallel: 2\n    format: parquet\n    destination: {type: local, path: ./high}\n");
  }
  std::string Env() const { return "RIVET_E2E_URL=" + ShellQuote(url_); }
  std::string Rivet(const std::string& args) const {
    return Env() + " " + RIVET_BINARY + " " + args;
  }
  // Starts `rivet snapshot hold` in the background; returns the id it wrote to its id file.
  std::string Hold(const std::string& extra = "") {
    hold_ = StartBackground(dir_, "hold", Env(),
                            std::string(RIVET_BINARY) + " snapshot hold -c " + dir_ +
                                "/rivet.yaml --id-file " + dir_ + "/snap.id " + extra);
    auto id = AwaitLine(dir_ + "/snap.id", std::chrono::seconds(10));
    if (!id) ADD_FAILURE() << "no snapshot id: " << hold_.Err();
    return id.value_or("");
  }
  int HoldPid() { return hold_.Pid(); }
  int HoldExit() { return hold_.Wait(std::chrono::seconds(30)); }
  std::vector<std::string> Totals(const std::string& glob) {
    CommandResult r = DuckDbQuery(
        tools_, "SELECT count(*), sum(balance) FROM read_parquet('" + dir_ + "/" + glob + "')");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return SplitLines(r.out);
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
  std::unique_ptr<SqlClient> db_;
  Background hold_;
};

TEST_F(SnapshotTest, WorkersOfSeparateRunsReadOneStateWhileAWriterChangesIt) {
  const std::string id = Hold();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(SplitLines(hold_.Out()), std::vector<std::string>{id});
  // Rows inserted after the snapshot must not be exported.
  ASSERT_EQ(db_->Exec("INSERT INTO rivet_snapshot.accounts SELECT g, 1000 FROM "
                      "generate_series(10001, 10500) g"),
            "");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    SqlClient w(kPostgres, url_);
    // Transfers keep the sum; bounded, and it stops when the exports are done.
    for (int i = 0; i < 5000 && !stop; ++i) {
      const int a = 1 + (i * 7919) % 10000;
      const int b = 1 + (i * 104729) % 10000;
      (void)w.Exec(
          fmt::format("BEGIN; UPDATE rivet_snapshot.accounts SET balance = balance - 7 "
                      "WHERE id = {}; UPDATE rivet_snapshot.accounts SET balance = "
                      "balance + 7 WHERE id = {}; COMMIT",
                      a, b));
    }
  });
  CommandResult low = RunCommand(Rivet("run -c " + dir_ + "/rivet.yaml -e low --snapshot " + id));
  CommandResult high = RunCommand(Rivet("run -c " + dir_ + "/rivet.yaml -e high --snapshot " + id));
  stop = true;
  writer.join();
  ASSERT_EQ(low.exit_code, 0) << low.err;
  ASSERT_EQ(high.exit_code, 0) << high.err;
  EXPECT_NE(low.err.find("consistency: snapshot"), std::string::npos) << low.err;
  // Two processes, four connections each: one state of the table, the one before any change.
  EXPECT_EQ(Totals("*/*.parquet"), std::vector<std::string>{"[\"10000\",\"1000000\"]"});
  ASSERT_EQ(::kill(HoldPid(), SIGTERM), 0);
  EXPECT_EQ(HoldExit(), 0);
}

TEST_F(SnapshotTest, ARunWhoseHolderEndedFailsClearlyAndWritesNothing) {
  const std::string id = Hold("--for 1s");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(HoldExit(), 0) << hold_.Err();
  CommandResult r = RunCommand(Rivet("run -c " + dir_ + "/rivet.yaml -e low --snapshot " + id));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("snapshot " + id + " is no longer available"), std::string::npos) << r.err;
  EXPECT_TRUE(ListDir(dir_ + "/low").empty());
}

TEST_F(SnapshotTest, BadIdsAndMysqlAreRefusedBeforeConnecting) {
  CommandResult bad = RunCommand(Rivet("run -c " + dir_ + "/rivet.yaml --snapshot \"1'; --\""));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("is not a PostgreSQL snapshot id"), std::string::npos) << bad.err;
  WriteFile(dir_ + "/my.yaml",
            "source:\n  type: mysql\n  url: mysql://u@127.0.0.1:1/db\nexports:\n  - name: a\n"
            "    query: SELECT 1\n    destination: {type: stdout}\n");
  CommandResult my =
      RunCommand(std::string(RIVET_BINARY) + " snapshot hold -c " + dir_ + "/my.yaml");
  EXPECT_EQ(my.exit_code, 2);
  EXPECT_NE(my.err.find("PostgreSQL"), std::string::npos) << my.err;
  CommandResult run = RunCommand(std::string(RIVET_BINARY) + " run -c " + dir_ +
                                 "/my.yaml --snapshot 00000003-0000001B-1");
  EXPECT_EQ(run.exit_code, 2);
}

}  // namespace
}  // namespace rivet::testing
