// The state store on both backends: SQLite in a temporary file and PostgreSQL
// (RIVET_TEST_PG_URL), each PostgreSQL test in a fresh schema of its own selected with
// search_path, so tests never see each other's rows. Concurrency is real: forked processes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include "rivet/state/state.h"
#include "support/pg_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using state::ChunkPlan;
using state::ChunkTask;
using state::StateLocation;
using namespace std::chrono_literals;

enum class Backend { kSqlite, kPostgres };

// "postgresql://...?..." plus a search_path option naming `schema`.
std::string WithSchema(const std::string& url, const std::string& schema) {
  const char sep = url.find('?') == std::string::npos ? '?' : '&';
  return url + sep + "options=-csearch_path%3D" + schema;
}

class StateBackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      location_.sqlite_path = MakeTempDir("state_backend") + "/.rivet_state.db";
      return;
    }
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    base_url_ = url;
    schema_ = "rivet_state_" + std::to_string(getpid()) + "_" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    PgClient admin(base_url_);
    ASSERT_TRUE(admin.ok()) << admin.error();
    ASSERT_EQ(admin.Exec("CREATE SCHEMA " + schema_), "");
    location_.postgres_url = WithSchema(base_url_, schema_);
  }
  void TearDown() override {
    if (schema_.empty()) return;
    PgClient admin(base_url_);
    (void)admin.Exec("DROP SCHEMA " + schema_ + " CASCADE");
  }

  state::StateStore Open() {
    auto store = state::OpenStateStore(location_);
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return std::move(*store);
  }

  static ChunkPlan Plan(const std::string& run_id, int tasks) {
    ChunkPlan plan;
    plan.run_id = run_id;
    plan.export_name = "orders";
    plan.plan_hash = "h";
    plan.query_hash = "q";
    plan.chunk_column = "id";
    plan.chunk_size = 10;
    plan.created_at = "2026-03-29T16:00:00+00:00";
    plan.updated_at = plan.created_at;
    for (int i = 0; i < tasks; ++i) {
      ChunkTask t;
      t.idx = i;
      t.start_key = std::to_string(i * 10 + 1);
      t.end_key = std::to_string(i * 10 + 10);
      plan.tasks.push_back(t);
    }
    return plan;
  }

  static state::FileRecord File(const std::string& run_id, int64_t idx) {
    state::FileRecord f;
    f.run_id = run_id;
    f.export_name = "orders";
    f.file_name = "orders_chunk" + std::to_string(idx) + ".parquet";
    f.location = "/out/" + f.file_name;
    f.rows = 10;
    f.bytes = 100;
    f.format = "parquet";
    f.compression = "zstd";
    f.created_at = "2026-03-29T16:00:01+00:00";
    f.part_index = idx;
    return f;
  }

  StateLocation location_;
  std::string base_url_;
  std::string schema_;
};

TEST_P(StateBackendTest, MigratesToTheCurrentVersionAndReopensUnchanged) {
  { auto store = Open(); }
  auto store = Open();
  auto version = store.SchemaVersion();
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, state::kSchemaVersion);
}

TEST_P(StateBackendTest, RunsFilesCursorsAndPlansReadBackAsWritten) {
  auto store = Open();
  state::RunRecord run;
  run.run_id = "orders_20260329T160000.000";
  run.export_name = "orders";
  run.started_at = "2026-03-29T16:00:00+00:00";
  run.finished_at = "2026-03-29T16:00:01+00:00";
  run.rows = 5;
  run.profile = "balanced (default)";
  run.validated = true;
  run.error_message = "boom";
  run.error_code = ErrorCode::kNetwork;
  ASSERT_TRUE(store.RecordRun(run).ok());
  ASSERT_TRUE(store.RecordRun(run).ok());  // a resumed run replaces itself
  auto runs = store.ListRuns(std::nullopt, 10);
  ASSERT_TRUE(runs.has_value()) << runs.error().message();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0], run);

  ASSERT_TRUE(store.RecordFile(File(run.run_id, 0)).ok());
  auto files = store.ListFiles(std::string("orders"), 10);
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(*files, std::vector<state::FileRecord>{File(run.run_id, 0)});

  state::CursorState cursor{"orders", "id", "42", "2026-03-29T16:00:01+00:00", "integer"};
  ASSERT_TRUE(store.SetCursor(cursor).ok());
  cursor.last_cursor = "43";
  ASSERT_TRUE(store.SetCursor(cursor).ok());
  auto got = store.GetCursor("orders");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, cursor);

  ASSERT_TRUE(store.CreateChunkPlan(Plan("r1", 3)).ok());
  auto plan = store.InProgressChunkPlan("orders");
  ASSERT_TRUE(plan.has_value() && plan->has_value());
  EXPECT_EQ(**plan, Plan("r1", 3));
  auto has = store.HasChunkPlan("orders");
  ASSERT_TRUE(has.has_value());
  EXPECT_TRUE(*has);
  auto reset = store.ResetExport("orders");
  ASSERT_TRUE(reset.has_value());
  EXPECT_TRUE(*reset);
}

TEST_P(StateBackendTest, ExpiredLeaseIsReclaimedAndTheOldTokenIsFencedOut) {
  auto store = Open();
  auto joined = store.CreateOrJoinChunkPlan(Plan("r1", 1));
  ASSERT_TRUE(joined.has_value()) << joined.error().message();
  EXPECT_TRUE(joined->created);
  auto again = store.CreateOrJoinChunkPlan(Plan("r2", 1));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->plan.run_id, "r1");

  auto first = store.ClaimChunk("r1", 50ms, "w1", 0);
  ASSERT_TRUE(first.has_value() && first->has_value()) << first.error().message();
  EXPECT_EQ((*first)->idx, 0);
  EXPECT_EQ((*first)->attempts, 1);
  EXPECT_EQ((*first)->token.size(), 32u);
  auto none = store.ClaimChunk("r1", 50ms, "w2", 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());  // held, lease not yet over

  std::this_thread::sleep_for(120ms);
  auto second = store.ClaimChunk("r1", 10s, "w2", 0);
  ASSERT_TRUE(second.has_value() && second->has_value());
  EXPECT_EQ((*second)->attempts, 2);
  EXPECT_NE((*second)->token, (*first)->token);

  auto renew = store.RenewChunkLease("r1", 0, (*first)->token, 10s);
  ASSERT_TRUE(renew.has_value());
  EXPECT_FALSE(*renew);
  auto fenced = store.CompleteClaimedChunk("r1", 0, (*first)->token, 10, {File("r1", 0)});
  ASSERT_TRUE(fenced.has_value());
  EXPECT_FALSE(*fenced);
  auto failed = store.FailClaimedChunk("r1", 0, (*first)->token, state::ChunkStatus::kPending, "x");
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(*failed);
  auto files = store.ListFiles(std::nullopt, 10);
  ASSERT_TRUE(files.has_value());
  EXPECT_TRUE(files->empty());  // the fenced completion wrote no manifest row

  auto renewed = store.RenewChunkLease("r1", 0, (*second)->token, 10s);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_TRUE(*renewed);
  auto pending = store.PendingChunkCount("r1");
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(*pending, 1);
  auto done = store.CompleteClaimedChunk("r1", 0, (*second)->token, 10, {File("r1", 0)});
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(*done);
  auto finish = store.FinishPlanIfDone("r1");
  ASSERT_TRUE(finish.has_value());
  EXPECT_TRUE(*finish);
  auto finish_again = store.FinishPlanIfDone("r1");
  ASSERT_TRUE(finish_again.has_value());
  EXPECT_FALSE(*finish_again);
}

TEST_P(StateBackendTest, AChunkWhoseWorkersKeepDyingFailsAfterMaxAttemptsClaims) {
  auto store = Open();
  ASSERT_TRUE(store.CreateChunkPlan(Plan("r1", 1)).ok());
  auto first = store.ClaimChunk("r1", 50ms, "w1", 2);
  ASSERT_TRUE(first.has_value() && first->has_value()) << first.error().message();
  std::this_thread::sleep_for(120ms);  // w1 died: its lease runs out
  auto second = store.ClaimChunk("r1", 50ms, "w2", 2);
  ASSERT_TRUE(second.has_value() && second->has_value()) << second.error().message();
  EXPECT_EQ((*second)->attempts, 2);
  std::this_thread::sleep_for(120ms);  // and so did w2
  auto none = store.ClaimChunk("r1", 50ms, "w3", 2);
  ASSERT_TRUE(none.has_value()) << none.error().message();
  EXPECT_FALSE(none->has_value());

  auto plan = store.InProgressChunkPlan("orders");
  ASSERT_TRUE(plan.has_value() && plan->has_value());
  const ChunkTask& task = (*plan)->tasks.at(0);
  EXPECT_EQ(task.status, state::ChunkStatus::kFailed);
  EXPECT_EQ(task.attempts, 2);
  ASSERT_TRUE(task.last_error.has_value());
  EXPECT_NE(task.last_error->find("claimed 2 times"), std::string::npos) << *task.last_error;
  EXPECT_NE(task.last_error->find("last held by w2"), std::string::npos) << *task.last_error;
  auto late = store.CompleteClaimedChunk("r1", 0, (*second)->token, 10, {File("r1", 0)});
  ASSERT_TRUE(late.has_value());
  EXPECT_FALSE(*late);  // the failure took the claim away

  // Unbounded (0): the same chunk is handed on however often its workers die.
  ASSERT_TRUE(store.CreateChunkPlan(Plan("r2", 1)).ok());
  for (int i = 1; i <= 3; ++i) {
    auto claim = store.ClaimChunk("r2", 20ms, "w", 0);
    ASSERT_TRUE(claim.has_value() && claim->has_value());
    EXPECT_EQ((*claim)->attempts, i);
    std::this_thread::sleep_for(60ms);
  }
}

// Runs `body(p)` in `n` forked processes at once, each exiting with what body returns, and
// expects every one to exit 0.
void RunInProcesses(int n, const std::function<int(int)>& body) {
  std::vector<pid_t> children;
  for (int p = 0; p < n; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(body(p));
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
}

// N processes open a store nobody created yet at once: the migrations race, and each applies
// or waits, none fails.
TEST_P(StateBackendTest, ConcurrentFirstOpensMigrateOnce) {
  RunInProcesses(6, [&](int) {
    auto store = state::OpenStateStore(location_);
    if (!store.has_value()) {
      std::fprintf(stderr, "%s\n", store.error().message().c_str());
      return 10;
    }
    auto version = store->SchemaVersion();
    return version.has_value() && *version == state::kSchemaVersion ? 0 : 11;
  });
}

// N processes join one plan and claim in a loop: every chunk is claimed exactly once and
// exactly one process finishes the plan.
TEST_P(StateBackendTest, ConcurrentProcessesClaimEveryChunkExactlyOnce) {
  constexpr int kTasks = 40;
  constexpr int kProcesses = 4;
  const std::string dir = MakeTempDir("claims");
  {
    // Created before the workers start, so a worker starting late cannot find it completed
    // and create a second plan.
    auto store = Open();
    ASSERT_TRUE(store.CreateChunkPlan(Plan("r", kTasks)).ok());
  }
  RunInProcesses(kProcesses, [&](int p) {
    auto store = state::OpenStateStore(location_);
    if (!store.has_value()) return 10;
    // Not CreateOrJoinChunkPlan: a worker starting after the others finished would rightly
    // find no in_progress plan and create a new one.
    const std::string run_id = "r";
    std::string claimed;
    int finished = 0;
    while (true) {
      auto claim = store->ClaimChunk(run_id, 30s, "w" + std::to_string(p), 0);
      if (!claim.has_value()) return 12;
      if (!claim->has_value()) break;
      claimed += std::to_string((*claim)->idx) + "\n";
      auto done = store->CompleteClaimedChunk(run_id, (*claim)->idx, (*claim)->token, 1, {});
      if (!done.has_value() || !*done) return 13;
      auto fin = store->FinishPlanIfDone(run_id);
      if (!fin.has_value()) return 14;
      finished += *fin ? 1 : 0;
    }
    WriteFile(dir + "/claims" + std::to_string(p), claimed);
    WriteFile(dir + "/finished" + std::to_string(p), std::to_string(finished));
    return 0;
  });
  std::multiset<std::string> all;
  int finished = 0;
  for (int p = 0; p < kProcesses; ++p) {
    for (const std::string& line : SplitLines(ReadFile(dir + "/claims" + std::to_string(p)))) {
      all.insert(line);
    }
    finished += std::stoi(ReadFile(dir + "/finished" + std::to_string(p)));
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<size_t>(kTasks));
  auto store = Open();
  auto pending = store.PendingChunkCount(store.LatestChunkPlan("orders")->value().run_id);
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(*pending, 0);
  // The last completion finishes the plan; a worker that completed earlier saw false.
  EXPECT_EQ(finished, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StateBackendTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& param_info) {
                           return param_info.param == Backend::kSqlite ? std::string("Sqlite")
                                                                       : std::string("Postgres");
                         });

// The state URL's password never reaches an error message.
TEST(StatePostgresErrors, AFailedOpenNamesTheServerButNotThePassword) {
  RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_PW_URL");
  // A database that does not exist: the server refuses, after the password was checked.
  std::string bad = url;
  const size_t slash = bad.rfind('/');
  bad = bad.substr(0, slash) + "/rivet_no_such_db";
  StateLocation location;
  location.postgres_url = bad;
  auto store = state::OpenStateStore(location);
  ASSERT_FALSE(store.has_value());
  const std::string message = store.error().message();
  EXPECT_NE(message.find("PostgreSQL"), std::string::npos) << message;
  EXPECT_NE(message.find("rivet_no_such_db"), std::string::npos) << message;
  const size_t at = url.rfind('@');
  const size_t colon = url.find(':', url.find("://") + 3);
  ASSERT_TRUE(at != std::string::npos && colon < at);
  const std::string password = url.substr(colon + 1, at - colon - 1);
  EXPECT_EQ(message.find(password), std::string::npos) << message;
}

}  // namespace
}  // namespace rivet::testing
