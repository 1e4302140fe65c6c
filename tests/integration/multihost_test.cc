// Workers on several hosts: scripts/servers/netns.sh makes three network namespaces (rivet-h1..3,
// each its own host with its own address) joined by a bridge, with a PostgreSQL on the bridge
// that is both the source and the shared state store. A rivet worker runs in each namespace
// (`ip netns exec`), writing to one shared folder:
//   - one checkpointed plan of a 3,000,000-row table: every row exactly once; the 1 vs 3 worker
//     wall times are printed;
//   - a worker killed with SIGKILL mid-chunk: its chunk is reclaimed after the lease;
//   - a worker cut off the network (its link taken down) while it holds a chunk: the chunk is
//     reclaimed, and when the link comes back the cut-off worker cannot complete it;
//   - --shard i/N on the three hosts, each with its own SQLite state: the same union of rows;
//   - --worker --snapshot on two hosts while a writer moves money: the exported total is the
//     invariant.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
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
using std::chrono::seconds;

constexpr int kBigRows = 3000000;
// IdTotals of the big table's export.
constexpr const char* kBigTotals = "3000001,3000000,1,4500001500000";

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_NET_PG_URL");
    RIVET_REQUIRE_ENV(hosts, "RIVET_TEST_NET_HOSTS");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    url_ = url;
    tools_ = tools;
    for (size_t at = 0; at <= hosts.size();) {
      size_t comma = std::min(hosts.find(',', at), hosts.size());
      hosts_.push_back(hosts.substr(at, comma - at));
      at = comma + 1;
    }
    ASSERT_EQ(hosts_.size(), 3u) << hosts;
    db_ = std::make_unique<SqlClient>(kPostgres, url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    ASSERT_EQ(db_->Exec("SET client_min_messages = warning"), "");
    // The big table is made once for every test of this binary, indexed on its chunk column
    // as a table chunked in production is (without, every chunk scans the whole table).
    if (db_->Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'rivet_net' AND "
                    "tablename = 'big'") != "1") {
      ASSERT_EQ(db_->Exec(fmt::format(
                    "DROP SCHEMA IF EXISTS rivet_net CASCADE; CREATE SCHEMA rivet_net; "
                    "CREATE TABLE rivet_net.big AS SELECT g::bigint AS id, (g % 1000)::int AS n, "
                    "'row ' || g AS s FROM generate_series(1, {}) g; INSERT INTO rivet_net.big "
                    "VALUES (NULL, 0, 'no key'); CREATE INDEX ON rivet_net.big (id); ANALYZE "
                    "rivet_net.big",
                    kBigRows)),
                "");
    }
    dir_ = MakeTempDir("multihost");
  }
  void TearDown() override {
    for (const std::string& schema : schemas_) {
      (void)db_->Exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema));
    }
  }

  // A fresh state schema on the shared server; the URL that points rivet's state store at it.
  std::string StateUrl(const std::string& schema) {
    EXPECT_EQ(
        db_->Exec(fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}", schema)), "");
    schemas_.push_back(schema);
    return url_ + "?options=-csearch_path%3D" + schema;
  }
  // DIR/NAME/rivet.yaml: a chunked export `e` of `query`, to NAME/out (or `out` when given).
  std::string WriteConfig(const std::string& name, const std::string& query, int chunk_size,
                          const std::string& tuning, bool checkpoint, const std::string& out = "") {
    const std::string config_dir = dir_ + "/" + name;
    RunCommand("mkdir -p " + config_dir);
    WriteFile(config_dir + "/rivet.yaml",
              fmt::format("source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n  tuning: {}\n"
                          "exports:\n  - name: e\n    query: \"{}\"\n    mode: chunked\n"
                          "    chunk_column: id\n    chunk_size: {}\n    chunk_checkpoint: {}\n"
                          "    parallel: 1\n    format: parquet\n"
                          "    destination: {{type: local, path: {}}}\n",
                          tuning, query, chunk_size, checkpoint ? "true" : "false",
                          out.empty() ? config_dir + "/out" : out));
    return config_dir + "/rivet.yaml";
  }
  // Starts `rivet ARGS` on host `host` (0..2), known as `tag`.
  void Start(const std::string& tag, int host, const std::string& env, const std::string& args) {
    runs_[tag] =
        StartBackground(dir_, tag, "RIVET_E2E_URL=" + ShellQuote(url_) + " " + env,
                        std::string(RIVET_BINARY) + " " + args, "ip netns exec " + hosts_[host]);
  }
  // Starts a worker of `config` on `host` with the state store `state`.
  void StartWorker(const std::string& tag, int host, const std::string& state,
                   const std::string& config, const std::string& extra = "") {
    Start(tag, host, "RIVET_STATE_URL=" + ShellQuote(state),
          "run -c " + config + " --worker " + extra);
  }
  const Background& Run(const std::string& tag) { return runs_[tag]; }
  // Waits for `tag` to end with exit code 0, failing with its stderr otherwise.
  void ExpectSuccess(const std::string& tag) {
    EXPECT_EQ(runs_[tag].Wait(), 0) << tag << ":\n" << runs_[tag].Err();
  }
  // The index of a chunk `schema`'s plan has running on worker `pid`; polls for up to 60 s.
  std::string RunningChunkOf(const std::string& schema, int pid) {
    for (int i = 0; i < 2400; ++i) {
      std::string idx = db_->Scalar(fmt::format(
          "SELECT min(idx) FROM {}.chunk_tasks WHERE status = 'running' AND worker LIKE '%:{}'",
          schema, pid));
      if (!idx.empty()) return idx;
      std::this_thread::sleep_for(milliseconds(25));
    }
    ADD_FAILURE() << "worker " << pid << " never ran a chunk";
    return "";
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
  std::vector<std::string> hosts_;
  std::vector<std::string> schemas_;
  std::unique_ptr<SqlClient> db_;
  std::map<std::string, Background> runs_;
};

constexpr const char* kBigQuery = "SELECT id, n, s FROM rivet_net.big";

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST_F(MultiHostTest, ThreeWorkersOnThreeHostsDeliverEveryRowOnce) {
  // One worker alone first, then one per host: the same plan shape, timed from the first start
  // to the last exit.
  const std::string alone = StateUrl("rivet_net_state_alone");
  const std::string alone_config = WriteConfig("alone", kBigQuery, 100000, "{profile: fast}", true);
  auto start = std::chrono::steady_clock::now();
  StartWorker("alone", 0, alone, alone_config);
  ExpectSuccess("alone");
  const double one = SecondsSince(start);

  const std::string shared = StateUrl("rivet_net_state_three");
  const std::string config = WriteConfig("three", kBigQuery, 100000, "{profile: fast}", true);
  start = std::chrono::steady_clock::now();
  for (int h = 0; h < 3; ++h) StartWorker("w" + std::to_string(h), h, shared, config);
  int finishers = 0;
  for (int h = 0; h < 3; ++h) {
    ExpectSuccess("w" + std::to_string(h));
    finishers +=
        Run("w" + std::to_string(h)).Err().find("it finished the plan") != std::string::npos;
  }
  const double three = SecondsSince(start);
  std::printf(
      "multi-host timing, %d rows, 31 chunks: 1 worker %.2f s, 3 workers on 3 hosts %.2f s\n",
      kBigRows, one, three);

  EXPECT_EQ(finishers, 1);
  EXPECT_EQ(IdTotals(tools_, dir_ + "/alone/out/*.parquet"), kBigTotals);
  EXPECT_EQ(IdTotals(tools_, dir_ + "/three/out/*.parquet"), kBigTotals);
  const std::string schema = "rivet_net_state_three";
  EXPECT_EQ(db_->Scalar(fmt::format(
                "SELECT count(*) FILTER (WHERE status = 'completed') || ' of ' || count(*) FROM "
                "{}.chunk_tasks",
                schema)),
            "31 of 31");  // 30 windows and the NULL chunk
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT count(*) || ' ' || max(rows) FROM {}.runs", schema)),
            "1 3000001");
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT count(*) FROM {}.files", schema)), "31");
  // The plan was shared, not run three times over: more than one worker completed chunks.
  EXPECT_GE(std::stoi(db_->Scalar(
                fmt::format("SELECT count(DISTINCT worker) FROM {}.chunk_tasks", schema))),
            2);
}

TEST_F(MultiHostTest, AWorkerKilledMidChunkHandsItsChunkBackAfterTheLease) {
  const std::string schema = "rivet_net_state_killed";
  const std::string state = StateUrl(schema);
  // Ten batches a chunk, 20 ms apart, so each chunk lasts long enough to be killed in.
  const std::string config =
      WriteConfig("killed", kBigQuery, 100000, "{batch_size: 10000, throttle_ms: 20}", true);
  for (int h = 0; h < 3; ++h) {
    StartWorker("w" + std::to_string(h), h, state, config, "--lease-seconds 2");
  }
  const int victim = Run("w1").Pid();
  const std::string held = RunningChunkOf(schema, victim);
  ASSERT_FALSE(held.empty());
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  EXPECT_EQ(Run("w1").Wait(), 128 + SIGKILL);
  // Nothing can take a chunk before its lease ends: the killed worker still holds one.
  const std::string orphan = db_->Scalar(fmt::format(
      "SELECT min(idx) FROM {}.chunk_tasks WHERE status = 'running' AND worker LIKE '%:{}'", schema,
      victim));
  ASSERT_FALSE(orphan.empty());
  ExpectSuccess("w0");
  ExpectSuccess("w2");
  EXPECT_EQ(IdTotals(tools_, dir_ + "/killed/out/*.parquet"), kBigTotals);
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT status || ' ' || attempts || ' ' || (worker NOT LIKE "
                                    "'%:{}') FROM {}.chunk_tasks WHERE idx = {}",
                                    victim, schema, orphan)),
            "completed 2 true");
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT count(*) FROM {}.files", schema)), "31");
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT count(*) FROM {}.runs", schema)), "1");
}

// Brings a host's link back up even when an assertion ends the test early.
struct LinkDown {
  explicit LinkDown(std::string name) : link(std::move(name)) { Set("down"); }
  ~LinkDown() { Up(); }
  void Set(const char* state) {
    CommandResult r = RunCommand("ip link set " + link + " " + state);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  void Up() {
    if (!up) Set("up");
    up = true;
  }
  std::string link;
  bool up = false;
};

TEST_F(MultiHostTest, AWorkerCutOffTheNetworkCannotCompleteTheChunkTakenOver) {
  ASSERT_EQ(db_->Exec("DROP TABLE IF EXISTS rivet_net.cut; CREATE TABLE rivet_net.cut AS SELECT "
                      "g AS id FROM generate_series(1, 300000) g"),
            "");
  const std::string schema = "rivet_net_state_cut";
  const std::string state = StateUrl(schema);
  // About a second a chunk: 10 batches 100 ms apart; 10 windows.
  const std::string config = WriteConfig("cut", "SELECT id FROM rivet_net.cut", 30000,
                                         "{batch_size: 3000, throttle_ms: 100}", true);
  StartWorker("cut", 0, state, config, "--lease-seconds 2");
  const int cut = Run("cut").Pid();
  const std::string held = RunningChunkOf(schema, cut);
  ASSERT_FALSE(held.empty());
  {
    LinkDown partition(hosts_[0]);
    // The other hosts take the cut-off worker's chunk once its lease ends, and finish the plan.
    StartWorker("w1", 1, state, config, "--lease-seconds 2");
    StartWorker("w2", 2, state, config, "--lease-seconds 2");
    ExpectSuccess("w1");
    ExpectSuccess("w2");
    EXPECT_EQ(db_->Scalar(fmt::format("SELECT status || ' ' || (worker NOT LIKE '%:{}') FROM "
                                      "{}.chunk_tasks WHERE idx = {}",
                                      cut, schema, held)),
              "completed true");
  }
  // Back on the network, the cut-off worker finds its claim taken and drops its file.
  ExpectSuccess("cut");
  EXPECT_NE(Run("cut").Err().find("taken over by another worker"), std::string::npos)
      << Run("cut").Err();
  EXPECT_EQ(IdTotals(tools_, dir_ + "/cut/out/*.parquet"), "300000,300000,0,45000150000");
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT count(*) FROM {}.files", schema)), "10");
  EXPECT_EQ(db_->Scalar(fmt::format("SELECT count(*) || ' ' || max(rows) FROM {}.runs", schema)),
            "1 300000");
}

TEST_F(MultiHostTest, ShardsOnThreeHostsGiveTheSameUnionOfRows) {
  // No shared store: each host keeps its own SQLite state next to its own copy of the config,
  // as pods of a Kubernetes Indexed Job would; the files go to one shared folder.
  const std::string out = dir_ + "/shared";
  for (int h = 0; h < 3; ++h) {
    const std::string config =
        WriteConfig("shard" + std::to_string(h), kBigQuery, 100000, "{profile: fast}", false, out);
    Start("s" + std::to_string(h), h,
          "env -u RIVET_STATE_URL JOB_COMPLETION_INDEX=" + std::to_string(h),
          "run -c " + config + " --shard 3");
  }
  for (int h = 0; h < 3; ++h) ExpectSuccess("s" + std::to_string(h));
  EXPECT_EQ(IdTotals(tools_, out + "/*.parquet"), kBigTotals);
  EXPECT_EQ(ListDir(out).size(), 31u);
  for (int h = 0; h < 3; ++h) {
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/shard" + std::to_string(h) + "/.rivet_state.db"));
  }
}

TEST_F(MultiHostTest, SnapshotWorkersOnTwoHostsExportTheInvariantWhileAWriterMovesMoney) {
  // 200,000 accounts of 100: the balances sum to 20,000,000 between transactions.
  ASSERT_EQ(db_->Exec("DROP TABLE IF EXISTS rivet_net.accounts; CREATE TABLE rivet_net.accounts "
                      "(id int PRIMARY KEY, balance bigint); INSERT INTO rivet_net.accounts "
                      "SELECT g, 100 FROM generate_series(1, 200000) g"),
            "");
  const std::string schema = "rivet_net_state_snapshot";
  const std::string state = StateUrl(schema);
  const std::string config = WriteConfig("snapshot", "SELECT id, balance FROM rivet_net.accounts",
                                         10000, "{batch_size: 2000, throttle_ms: 30}", true);
  // The holder on the first host; the workers on the two others.
  Start("hold", 0, "", "snapshot hold -c " + config + " --id-file " + dir_ + "/snap.id");
  const std::string id = AwaitLine(dir_ + "/snap.id", seconds(10)).value_or("");
  ASSERT_FALSE(id.empty()) << Run("hold").Err();
  std::atomic<bool> stop{false};
  std::atomic<int> moves{0};
  std::thread writer([&] {
    SqlClient w(kPostgres, url_);
    // Bounded; each move keeps the sum, and accounts opened after the snapshot add to it.
    for (int i = 0; i < 20000 && !stop; ++i) {
      const int from = 1 + (i * 7919) % 200000;
      const int to = 1 + (i * 104729) % 200000;
      const std::string sql =
          i % 50 == 0 ? fmt::format("INSERT INTO rivet_net.accounts VALUES ({}, 1000)", 200001 + i)
                      : fmt::format(
                            "UPDATE rivet_net.accounts SET balance = balance + CASE id "
                            "WHEN {0} THEN -7 ELSE 7 END WHERE id IN ({0}, {1})",
                            from, to);
      if (from != to && w.Exec(sql).empty()) ++moves;
    }
  });
  StartWorker("w1", 1, state, config, "--snapshot " + id);
  StartWorker("w2", 2, state, config, "--snapshot " + id);
  ExpectSuccess("w1");
  ExpectSuccess("w2");
  stop = true;
  writer.join();
  EXPECT_GT(moves.load(), 0);
  EXPECT_NE(db_->Scalar("SELECT sum(balance) FROM rivet_net.accounts"), "20000000");
  CommandResult r = DuckDbQuery(
      tools_, "SELECT count(*), sum(balance) FROM read_parquet('" + dir_ + "/snapshot/out/*')");
  EXPECT_EQ(SplitLines(r.out), std::vector<std::string>{"[\"200000\",\"20000000\"]"}) << r.err;
  ASSERT_EQ(::kill(Run("hold").Pid(), SIGTERM), 0);
  EXPECT_EQ(Run("hold").Wait(), 0) << Run("hold").Err();
}

}  // namespace
}  // namespace rivet::testing
