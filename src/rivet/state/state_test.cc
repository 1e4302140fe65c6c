#include "rivet/state/state.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rivet/common/test_dir.h"
#include "rivet/state/migrations.h"
#include "rivet/state/sqlite/sqlite.h"

namespace rivet::state {
namespace {

using testutil::TempDir;

// A second, raw connection to inspect or disturb the file behind a StateStore.
sqlite::Database RawOpen(const std::string& path) {
  auto db = sqlite::Database::Open(path);
  EXPECT_TRUE(db.has_value()) << db.error().message();
  sqlite3_busy_timeout(db->get(), kBusyTimeoutMs);
  return std::move(db).value();
}

int64_t QueryInt(sqlite::Database& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.has_value()) << stmt.error().message();
  auto row = stmt->Step();
  EXPECT_TRUE(row.has_value() && *row) << sql;
  return stmt->Int(0);
}

std::string QueryText(sqlite::Database& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.has_value()) << stmt.error().message();
  auto row = stmt->Step();
  EXPECT_TRUE(row.has_value() && *row) << sql;
  return stmt->Text(0);
}

StateStore OpenStore(const std::string& path) {
  auto store = StateStore::Open(path);
  EXPECT_TRUE(store.has_value()) << store.error().message();
  return std::move(store).value();
}

RunRecord MakeRun(std::string run_id, std::string export_name, std::string started_at) {
  RunRecord run;
  run.run_id = std::move(run_id);
  run.export_name = std::move(export_name);
  run.started_at = started_at;
  run.finished_at = std::move(started_at);
  run.profile = "balanced (default)";
  run.batch_size = 10000;
  return run;
}

FileRecord MakeFile(std::string run_id, std::string export_name, std::string file_name,
                    std::string created_at) {
  FileRecord file;
  file.run_id = std::move(run_id);
  file.export_name = std::move(export_name);
  file.location = "./output/" + file_name;
  file.file_name = std::move(file_name);
  file.format = "parquet";
  file.compression = "zstd";
  file.created_at = std::move(created_at);
  return file;
}

std::vector<std::string> RunIds(const std::vector<RunRecord>& runs) {
  std::vector<std::string> ids;
  for (const auto& run : runs) ids.push_back(run.run_id);
  return ids;
}

std::vector<std::string> FileNames(const std::vector<FileRecord>& files) {
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.file_name);
  return names;
}

// --- migrations -----------------------------------------------------------------------------

TEST(StateStoreMigrations, FreshFileGetsEveryTableAndRecordsTheVersion) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  auto version = store.SchemaVersion();
  ASSERT_TRUE(version.has_value()) << version.error().message();
  EXPECT_EQ(*version, kSchemaVersion);
  EXPECT_EQ(Migrations().back().version, kSchemaVersion);

  sqlite::Database raw = RawOpen(path);
  for (const char* table :
       {"runs", "files", "cursors", "schema_history", "chunk_runs", "chunk_tasks"}) {
    EXPECT_EQ(QueryInt(raw, fmt::format("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                        "AND name = '{}'",
                                        table)),
              1)
        << table;
  }
  EXPECT_EQ(QueryInt(raw, "SELECT COUNT(*) FROM schema_migrations"),
            static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(QueryInt(raw, "SELECT MAX(version) FROM schema_migrations"), kSchemaVersion);
  const std::string applied_at = QueryText(raw, "SELECT applied_at FROM schema_migrations");
  EXPECT_EQ(applied_at.size(), std::string("2026-03-29T16:00:01+00:00").size()) << applied_at;
  EXPECT_EQ(applied_at.substr(applied_at.size() - 6), "+00:00");
  // WAL is a property of the file: a new connection sees it.
  EXPECT_EQ(QueryText(raw, "PRAGMA journal_mode"), "wal");
}

TEST(StateStoreMigrations, ReopeningIsANoOp) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  {
    StateStore store = OpenStore(path);
    ASSERT_TRUE(store.RecordRun(MakeRun("r1", "orders", "2026-03-29T16:00:00+00:00")).ok());
  }
  sqlite::Database raw = RawOpen(path);
  const std::string applied_before = QueryText(raw, "SELECT applied_at FROM schema_migrations");
  const int64_t objects_before = QueryInt(raw, "SELECT COUNT(*) FROM sqlite_master");
  for (int i = 0; i < 3; ++i) {
    StateStore store = OpenStore(path);
    auto runs = store.ListRuns(std::nullopt, 10);
    ASSERT_TRUE(runs.has_value());
    EXPECT_EQ(RunIds(*runs), std::vector<std::string>{"r1"});
  }
  EXPECT_EQ(QueryInt(raw, "SELECT COUNT(*) FROM schema_migrations"),
            static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(QueryText(raw, "SELECT applied_at FROM schema_migrations"), applied_before);
  EXPECT_EQ(QueryInt(raw, "SELECT COUNT(*) FROM sqlite_master"), objects_before);
}

TEST(StateStoreMigrations, DatabaseFromANewerRivetIsRefused) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  { StateStore store = OpenStore(path); }
  {
    sqlite::Database raw = RawOpen(path);
    auto insert =
        raw.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
    ASSERT_TRUE(insert.has_value());
    insert->Bind(1, kSchemaVersion + 1).Bind(2, std::string_view("2030-01-01T00:00:00+00:00"));
    ASSERT_TRUE(insert->Run().ok());
  }
  auto store = StateStore::Open(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kConfig);
  EXPECT_NE(store.error().message().find("newer than this Rivet supports"), std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find(std::to_string(kSchemaVersion + 1)), std::string::npos);
}

TEST(StateStoreMigrations, MissingFolderIsAnIoError) {
  TempDir dir;
  auto store = StateStore::Open(dir.File("no/such/folder/.rivet_state.db"));
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kIo);
  EXPECT_NE(store.error().message().find("no/such/folder"), std::string::npos);
}

TEST(StateStoreMigrations, NotADatabaseIsReportedAsCorrupt) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string junk(4096, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  auto store = StateStore::Open(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kCorrupt) << store.error().message();
}

// --- runs -----------------------------------------------------------------------------------

TEST(StateStoreRuns, EveryFieldRoundTrips) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  RunRecord full = MakeRun("orders_20260329T160000.123", "orders", "2026-03-29T16:00:00+00:00");
  full.status = RunStatus::kFailed;
  full.finished_at = "2026-03-29T16:00:02+00:00";
  full.rows = 1523;
  full.files = 2;
  full.bytes = 123392;
  full.duration_ms = 2340;
  full.peak_rss_bytes = 23068672;
  full.retries = 2;
  full.profile = "safe";
  full.batch_size = 2000;
  full.validated = false;
  full.schema_changed = true;
  full.quality_passed = true;
  full.error_message = "connection reset by peer";
  full.error_code = ErrorCode::kNetwork;

  RunRecord minimal = MakeRun("users_20260329T150000.000", "users", "2026-03-29T15:00:00+00:00");
  minimal.status = RunStatus::kSkipped;

  ASSERT_TRUE(store.RecordRun(full).ok());
  ASSERT_TRUE(store.RecordRun(minimal).ok());
  auto runs = store.ListRuns(std::nullopt, 10);
  ASSERT_TRUE(runs.has_value()) << runs.error().message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0], full);
  EXPECT_EQ((*runs)[1], minimal);
  EXPECT_FALSE((*runs)[1].validated.has_value());
  EXPECT_FALSE((*runs)[1].quality_passed.has_value());
  EXPECT_FALSE((*runs)[1].error_code.has_value());
}

TEST(StateStoreRuns, StoredAsTheSummaryPrintsThem) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  RunRecord run = MakeRun("r1", "orders", "2026-03-29T16:00:00+00:00");
  run.validated = true;
  run.quality_passed = false;
  run.error_code = ErrorCode::kQuality;
  ASSERT_TRUE(store.RecordRun(run).ok());
  sqlite::Database raw = RawOpen(path);
  EXPECT_EQ(QueryText(raw, "SELECT validated FROM runs"), "pass");
  EXPECT_EQ(QueryText(raw, "SELECT quality FROM runs"), "FAIL");
  EXPECT_EQ(QueryText(raw, "SELECT status FROM runs"), "success");
  EXPECT_EQ(QueryText(raw, "SELECT error_code FROM runs"), "quality");
  EXPECT_EQ(QueryText(raw, "SELECT profile FROM runs"), "balanced (default)");
}

TEST(StateStoreRuns, RecordingTheSameRunIdAgainReplacesIt) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  RunRecord run = MakeRun("big_20260329T160000.000", "big", "2026-03-29T16:00:00+00:00");
  run.status = RunStatus::kFailed;
  ASSERT_TRUE(store.RecordRun(run).ok());
  run.status = RunStatus::kSuccess;
  run.rows = 42;
  ASSERT_TRUE(store.RecordRun(run).ok());
  auto runs = store.ListRuns(std::nullopt, 10);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0], run);
}

TEST(StateStoreRuns, NewestFirstWithLimitAndExportFilter) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  // Recorded out of order; "b2" and "b3" started in the same second: recording order decides.
  ASSERT_TRUE(store.RecordRun(MakeRun("a1", "a", "2026-03-29T10:00:00+00:00")).ok());
  ASSERT_TRUE(store.RecordRun(MakeRun("b1", "b", "2026-03-29T12:00:00+00:00")).ok());
  ASSERT_TRUE(store.RecordRun(MakeRun("a2", "a", "2026-03-29T11:00:00+00:00")).ok());
  ASSERT_TRUE(store.RecordRun(MakeRun("b2", "b", "2026-03-29T13:00:00+00:00")).ok());
  ASSERT_TRUE(store.RecordRun(MakeRun("b3", "b", "2026-03-29T13:00:00+00:00")).ok());

  auto all = store.ListRuns(std::nullopt, 20);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(RunIds(*all), (std::vector<std::string>{"b3", "b2", "b1", "a2", "a1"}));
  auto limited = store.ListRuns(std::nullopt, 2);
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(RunIds(*limited), (std::vector<std::string>{"b3", "b2"}));
  auto only_a = store.ListRuns(std::string("a"), 20);
  ASSERT_TRUE(only_a.has_value());
  EXPECT_EQ(RunIds(*only_a), (std::vector<std::string>{"a2", "a1"}));
  auto none = store.ListRuns(std::string("c"), 20);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(StateStoreRuns, LimitBelowOneIsAConfigError) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  auto runs = store.ListRuns(std::nullopt, 0);
  ASSERT_FALSE(runs.has_value());
  EXPECT_EQ(runs.error().code(), ErrorCode::kConfig);
  auto files = store.ListFiles(std::nullopt, -5);
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().code(), ErrorCode::kConfig);
}

// The pipeline redacts secrets before recording; the store keeps exactly what it is given, and
// values are bound, never pasted into SQL, so quotes and SQL text cannot change a statement.
TEST(StateStoreRuns, ErrorMessageIsStoredExactlyAsGiven) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  const std::string message =
      "connection to postgresql://reader:***@db:5432/prod failed: it's \"down\"'); "
      "DROP TABLE runs; --\nsecond line \xC3\xA9";
  RunRecord run = MakeRun("r1", "orders", "2026-03-29T16:00:00+00:00");
  run.status = RunStatus::kFailed;
  run.error_message = message;
  run.error_code = ErrorCode::kNetwork;
  ASSERT_TRUE(store.RecordRun(run).ok());
  auto runs = store.ListRuns(std::string("orders"), 5);
  ASSERT_TRUE(runs.has_value()) << runs.error().message();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].error_message, message);
  EXPECT_EQ((*runs)[0].error_code, ErrorCode::kNetwork);
}

// --- files ----------------------------------------------------------------------------------

TEST(StateStoreFiles, RoundTripNewestFirstWithLimitAndFilter) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  FileRecord first = MakeFile("orders_r1", "orders", "orders_20260329_100000.parquet",
                              "2026-03-29T10:00:00+00:00");
  first.rows = 1000;
  first.bytes = 52000;
  FileRecord part0 =
      MakeFile("users_r1", "users", "users_20260329_110000_part0.csv", "2026-03-29T11:00:00+00:00");
  part0.format = "csv";
  part0.compression = "none";
  part0.location = "s3://bucket/raw/users/users_20260329_110000_part0.csv";
  part0.rows = 7;
  part0.bytes = 512;
  FileRecord part1 = part0;
  part1.file_name = "users_20260329_110000_part1.csv";
  part1.location = "s3://bucket/raw/users/users_20260329_110000_part1.csv";
  part1.part_index = 1;
  ASSERT_TRUE(store.RecordFile(first).ok());
  ASSERT_TRUE(store.RecordFile(part0).ok());
  ASSERT_TRUE(store.RecordFile(part1).ok());

  auto all = store.ListFiles(std::nullopt, 50);
  ASSERT_TRUE(all.has_value()) << all.error().message();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], part1);
  EXPECT_EQ((*all)[1], part0);
  EXPECT_EQ((*all)[2], first);
  auto limited = store.ListFiles(std::nullopt, 1);
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(FileNames(*limited), std::vector<std::string>{"users_20260329_110000_part1.csv"});
  auto orders = store.ListFiles(std::string("orders"), 50);
  ASSERT_TRUE(orders.has_value());
  EXPECT_EQ(FileNames(*orders), std::vector<std::string>{"orders_20260329_100000.parquet"});
}

// --- cursors --------------------------------------------------------------------------------

TEST(StateStoreCursors, GetSetUpdateAndList) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  auto missing = store.GetCursor("orders");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());

  const CursorState orders{"orders", "id", "1523", "2026-03-29T16:00:01+00:00"};
  const CursorState events{"events", "updated_at", "2026-03-29T16:00:00.000000",
                           "2026-03-29T16:00:02+00:00"};
  ASSERT_TRUE(store.SetCursor(orders).ok());
  ASSERT_TRUE(store.SetCursor(events).ok());
  auto got = store.GetCursor("orders");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, orders);

  const CursorState advanced{"orders", "id", "2048", "2026-03-29T17:00:00+00:00"};
  ASSERT_TRUE(store.SetCursor(advanced).ok());
  got = store.GetCursor("orders");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, advanced);

  auto listed = store.ListCursors();
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, (std::vector<CursorState>{events, advanced}));  // by export name
}

TEST(StateStoreCursors, ResetExportForgetsOnlyThatExport) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  ASSERT_TRUE(store.SetCursor({"orders", "id", "10", "2026-03-29T16:00:00+00:00"}).ok());
  ASSERT_TRUE(store.SetCursor({"users", "id", "99", "2026-03-29T16:00:00+00:00"}).ok());
  ASSERT_TRUE(store.RecordRun(MakeRun("orders_r1", "orders", "2026-03-29T16:00:00+00:00")).ok());

  auto reset = store.ResetExport("orders");
  ASSERT_TRUE(reset.has_value()) << reset.error().message();
  EXPECT_TRUE(*reset);
  auto orders = store.GetCursor("orders");
  ASSERT_TRUE(orders.has_value());
  EXPECT_FALSE(orders->has_value());
  auto users = store.GetCursor("users");
  ASSERT_TRUE(users.has_value());
  EXPECT_TRUE(users->has_value());
  // History stays: reset is about where the next run starts, not about what happened.
  auto runs = store.ListRuns(std::string("orders"), 10);
  ASSERT_TRUE(runs.has_value());
  EXPECT_EQ(runs->size(), 1u);

  auto again = store.ResetExport("orders");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
}

// A plan of `tasks` windows of 100 keys each, plus the NULL task.
ChunkPlan MakePlan(const std::string& export_name, const std::string& run_id, int64_t tasks = 2) {
  ChunkPlan plan;
  plan.run_id = run_id;
  plan.export_name = export_name;
  plan.plan_hash = "plan-hash";
  plan.query_hash = "query-hash";
  plan.chunk_column = "id";
  plan.chunk_size = 100;
  plan.created_at = "2026-03-29T16:00:00+00:00";
  plan.updated_at = plan.created_at;
  for (int64_t idx = 0; idx < tasks; ++idx) {
    ChunkTask t;
    t.idx = idx;
    t.start_key = std::to_string(1 + idx * 100);
    t.end_key = std::to_string(100 + idx * 100);
    plan.tasks.push_back(t);
  }
  ChunkTask nulls;
  nulls.idx = tasks;
  nulls.start_key = "NULL";
  nulls.end_key = "NULL";
  plan.tasks.push_back(nulls);
  return plan;
}

void InsertChunkPlan(const std::string& path, const std::string& export_name,
                     const std::string& run_id) {
  StateStore store = OpenStore(path);
  ASSERT_TRUE(store.CreateChunkPlan(MakePlan(export_name, run_id, 1)).ok());
}

TEST(StateStoreCursors, ResetExportDropsChunkPlansAndTheirTasks) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  InsertChunkPlan(path, "big", "big_r1");
  InsertChunkPlan(path, "other", "other_r1");
  auto has = store.HasChunkPlan("big");
  ASSERT_TRUE(has.has_value());
  EXPECT_TRUE(*has);

  auto reset = store.ResetExport("big");  // no cursor, only a plan: still something to forget
  ASSERT_TRUE(reset.has_value()) << reset.error().message();
  EXPECT_TRUE(*reset);
  has = store.HasChunkPlan("big");
  ASSERT_TRUE(has.has_value());
  EXPECT_FALSE(*has);

  sqlite::Database raw = RawOpen(path);
  // The store's connection enables foreign keys, so the tasks went with their plan.
  EXPECT_EQ(QueryInt(raw, "SELECT COUNT(*) FROM chunk_tasks WHERE run_id = 'big_r1'"), 0);
  EXPECT_EQ(QueryInt(raw, "SELECT COUNT(*) FROM chunk_tasks WHERE run_id = 'other_r1'"), 2);
}

TEST(StateStoreCursors, TheCursorTypeRoundTrips) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  const CursorState cursor{"events", "UpdatedAt", "2026-03-29T16:00:00.123456Z",
                           "2026-03-29T16:00:01+00:00", "timestamptz"};
  ASSERT_TRUE(store.SetCursor(cursor).ok());
  auto got = store.GetCursor("events");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, cursor);
  auto listed = store.ListCursors();
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, std::vector<CursorState>{cursor});
}

// Leaves `raw` as a Rivet that knew only the migrations up to `version` would.
Status MigrateRawTo(sqlite::Database& raw, int64_t version) {
  RIVET_RETURN_IF_ERROR(raw.Exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
  for (const Migration& m : Migrations()) {
    if (m.version > version) break;
    RIVET_RETURN_IF_ERROR(raw.Exec(m.sql));
    const std::string record = fmt::format(
        "INSERT INTO schema_migrations VALUES ({}, '2026-01-01T00:00:00+00:00')", m.version);
    RIVET_RETURN_IF_ERROR(raw.Exec(record.c_str()));
  }
  return Status::Ok();
}

TEST(StateStoreMigrations, AVersionOneFileKeepsItsCursorsAndGainsTheNewColumns) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  {
    // The file as a Rivet that knew only version 1 left it.
    sqlite::Database raw = RawOpen(path);
    ASSERT_TRUE(MigrateRawTo(raw, 1).ok());
    ASSERT_TRUE(raw.Exec("INSERT INTO cursors VALUES ('orders', '1523', 'id', "
                         "'2026-01-01T00:00:00+00:00')")
                    .ok());
  }
  StateStore store = OpenStore(path);
  auto version = store.SchemaVersion();
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, kSchemaVersion);
  auto got = store.GetCursor("orders");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, (CursorState{"orders", "id", "1523", "2026-01-01T00:00:00+00:00", ""}));
  ASSERT_TRUE(store.CreateChunkPlan(MakePlan("big", "big_r1")).ok());
}

TEST(StateStoreMigrations, AVersionTwoFileKeepsItsRunsAndAcceptsDegraded) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  {
    // The file as a Rivet that knew only versions 1 and 2 left it, with one run recorded.
    sqlite::Database raw = RawOpen(path);
    ASSERT_TRUE(MigrateRawTo(raw, 2).ok());
    ASSERT_TRUE(raw.Exec("INSERT INTO runs (run_id, export_name, status, started_at, "
                         "finished_at, rows, retries, profile, error_message) VALUES ('old_r1', "
                         "'old', 'failed', '2026-01-01T00:00:00+00:00', "
                         "'2026-01-01T00:00:01+00:00', 7, 3, 'safe', 'boom')")
                    .ok());
    EXPECT_FALSE(raw.Exec("INSERT INTO runs (run_id, export_name, status, started_at, "
                          "finished_at, profile) VALUES ('x', 'x', 'degraded', 'a', 'b', 'c')")
                     .ok());
  }
  StateStore store = OpenStore(path);
  auto version = store.SchemaVersion();
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, kSchemaVersion);
  RunRecord degraded = MakeRun("new_r2", "new", "2026-03-29T16:00:00+00:00");
  degraded.status = RunStatus::kDegraded;
  degraded.retries = 1;
  ASSERT_TRUE(store.RecordRun(degraded).ok());
  auto runs = store.ListRuns(std::nullopt, 10);
  ASSERT_TRUE(runs.has_value()) << runs.error().message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0], degraded);
  EXPECT_EQ((*runs)[1].run_id, "old_r1");
  EXPECT_EQ((*runs)[1].status, RunStatus::kFailed);
  EXPECT_EQ((*runs)[1].rows, 7);
  EXPECT_EQ((*runs)[1].retries, 3);
  EXPECT_EQ((*runs)[1].error_message, "boom");
  sqlite::Database raw = RawOpen(path);
  EXPECT_EQ(QueryText(raw, "SELECT status FROM runs WHERE run_id = 'new_r2'"), "degraded");
  EXPECT_EQ(QueryInt(raw,
                     "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                     "tbl_name = 'runs' AND name LIKE 'runs_by_%'"),
            2);
}

TEST(StateStoreCursors, ResetChunksKeepsTheCursor) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  ASSERT_TRUE(store.SetCursor({"big", "id", "10", "2026-03-29T16:00:00+00:00"}).ok());
  InsertChunkPlan(path, "big", "big_r1");
  auto removed = store.ResetChunks("big");
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(*removed);
  auto again = store.ResetChunks("big");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
  auto cursor = store.GetCursor("big");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_TRUE(cursor->has_value());
}

// --- chunk checkpoints ------------------------------------------------------------------------

TEST(StateStoreChunks, APlanRoundTripsWithEveryTask) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  auto none = store.InProgressChunkPlan("big");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  const ChunkPlan plan = MakePlan("big", "big_r1", 3);
  ASSERT_TRUE(store.CreateChunkPlan(plan).ok());
  auto got = store.InProgressChunkPlan("big");
  ASSERT_TRUE(got.has_value() && got->has_value()) << got.error().message();
  EXPECT_EQ(**got, plan);
  auto latest = store.LatestChunkPlan("big");
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ(**latest, plan);
  // The same run id twice is a bug in the caller, never a silent merge.
  EXPECT_FALSE(store.CreateChunkPlan(plan).ok());
}

TEST(StateStoreChunks, TasksAdvanceAndACompletedChunkRecordsItsFilesInTheSameStep) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  ASSERT_TRUE(store.CreateChunkPlan(MakePlan("big", "big_r1")).ok());

  ASSERT_TRUE(store.StartChunk("big_r1", 0).ok());
  ASSERT_TRUE(store.FailChunk("big_r1", 0, ChunkStatus::kPending, "connection reset").ok());
  ASSERT_TRUE(store.StartChunk("big_r1", 0).ok());
  std::vector<FileRecord> files = {
      MakeFile("big_r1", "big", "big_x_chunk0_part0.parquet", "2026-03-29T16:00:01+00:00"),
      MakeFile("big_r1", "big", "big_x_chunk0_part1.parquet", "2026-03-29T16:00:02+00:00")};
  ASSERT_TRUE(store.CompleteChunk("big_r1", 0, 150, files).ok());
  ASSERT_TRUE(store.StartChunk("big_r1", 1).ok());
  ASSERT_TRUE(store.FailChunk("big_r1", 1, ChunkStatus::kFailed, "permission denied").ok());

  auto plan = store.LatestChunkPlan("big");
  ASSERT_TRUE(plan.has_value() && plan->has_value());
  const auto& tasks = (*plan)->tasks;
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].status, ChunkStatus::kCompleted);
  EXPECT_EQ(tasks[0].attempts, 2);
  EXPECT_EQ(tasks[0].rows, 150);
  EXPECT_EQ(tasks[0].file_name, "big_x_chunk0_part0.parquet,big_x_chunk0_part1.parquet");
  EXPECT_EQ(tasks[0].last_error, std::nullopt);
  EXPECT_EQ(tasks[1].status, ChunkStatus::kFailed);
  EXPECT_EQ(tasks[1].attempts, 1);
  EXPECT_EQ(tasks[1].last_error, "permission denied");
  EXPECT_EQ(tasks[2].status, ChunkStatus::kPending);
  EXPECT_EQ(tasks[2].attempts, 0);
  auto manifest = store.ListFiles(std::string("big"), 10);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->size(), 2u);

  // A task that is not in the plan is an error, not a silent no-op.
  EXPECT_FALSE(store.StartChunk("big_r1", 7).ok());
  EXPECT_FALSE(store.CompleteChunk("big_r2", 0, 1, {}).ok());
  // ... and the files of a refused completion are not in the manifest.
  EXPECT_FALSE(
      store
          .CompleteChunk("big_r1", 9, 1,
                         {MakeFile("big_r1", "big", "stray.parquet", "2026-03-29T16:00:03+00:00")})
          .ok());
  manifest = store.ListFiles(std::string("big"), 10);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->size(), 2u);
}

TEST(StateStoreChunks, ResumeResetsRunningAndFailedTasksAndKeepsCompletedOnes) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  ASSERT_TRUE(store.CreateChunkPlan(MakePlan("big", "big_r1", 3)).ok());
  ASSERT_TRUE(store.StartChunk("big_r1", 0).ok());
  ASSERT_TRUE(store.CompleteChunk("big_r1", 0, 10, {}).ok());
  ASSERT_TRUE(store.StartChunk("big_r1", 1).ok());  // its process died
  ASSERT_TRUE(store.StartChunk("big_r1", 2).ok());
  ASSERT_TRUE(store.FailChunk("big_r1", 2, ChunkStatus::kFailed, "timeout").ok());
  ASSERT_TRUE(store.SetChunkPlanStatus("big_r1", ChunkPlanStatus::kFailed).ok());
  auto in_progress = store.InProgressChunkPlan("big");
  ASSERT_TRUE(in_progress.has_value());
  EXPECT_FALSE(in_progress->has_value());

  auto changed = store.ResetUnfinishedChunks("big_r1");
  ASSERT_TRUE(changed.has_value()) << changed.error().message();
  EXPECT_EQ(*changed, 2);
  auto plan = store.InProgressChunkPlan("big");
  ASSERT_TRUE(plan.has_value() && plan->has_value());
  const auto& tasks = (*plan)->tasks;
  EXPECT_EQ(tasks[0].status, ChunkStatus::kCompleted);
  EXPECT_EQ(tasks[1].status, ChunkStatus::kPending);
  EXPECT_EQ(tasks[2].status, ChunkStatus::kPending);
  EXPECT_EQ(tasks[2].attempts, 1);  // tries are history: kept
  EXPECT_EQ(tasks[3].status, ChunkStatus::kPending);
}

TEST(StateStoreChunks, TheNewestPlanOfTheExportIsReturned) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  ChunkPlan older = MakePlan("big", "big_r1");
  ChunkPlan newer = MakePlan("big", "big_r2");
  newer.created_at = "2026-03-30T16:00:00+00:00";
  ASSERT_TRUE(store.CreateChunkPlan(newer).ok());
  ASSERT_TRUE(store.CreateChunkPlan(older).ok());
  ASSERT_TRUE(store.CreateChunkPlan(MakePlan("other", "other_r1")).ok());
  ASSERT_TRUE(store.SetChunkPlanStatus("big_r2", ChunkPlanStatus::kCompleted).ok());

  auto latest = store.LatestChunkPlan("big");
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ((*latest)->run_id, "big_r2");
  EXPECT_EQ((*latest)->status, ChunkPlanStatus::kCompleted);
  EXPECT_NE((*latest)->updated_at, newer.updated_at);
  auto in_progress = store.InProgressChunkPlan("big");
  ASSERT_TRUE(in_progress.has_value() && in_progress->has_value());
  EXPECT_EQ((*in_progress)->run_id, "big_r1");
  EXPECT_FALSE(store.SetChunkPlanStatus("nope", ChunkPlanStatus::kCompleted).ok());
}

TEST(StateStoreChunks, WorkersOnSeveralThreadsAndHandlesCheckpointEveryChunk) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  constexpr int64_t kTasks = 200;
  StateStore shared = OpenStore(path);
  ASSERT_TRUE(shared.CreateChunkPlan(MakePlan("big", "big_r1", kTasks - 1)).ok());
  StateStore other_process = OpenStore(path);

  // Four workers share one handle (threads of one run); a fifth handle stands for another
  // process reading the plan (rivet state chunks) meanwhile.
  std::atomic<int64_t> next{0};
  std::atomic<int> failures{0};
  auto work = [&] {
    for (int64_t idx = next++; idx < kTasks; idx = next++) {
      FileRecord f = MakeFile("big_r1", "big", fmt::format("big_chunk{}.parquet", idx),
                              "2026-03-29T16:00:01+00:00");
      if (!shared.StartChunk("big_r1", idx).ok() ||
          !shared.CompleteChunk("big_r1", idx, idx, {f}).ok()) {
        ++failures;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(work);
  for (int i = 0; i < 20; ++i) {
    auto plan = other_process.LatestChunkPlan("big");
    if (!plan.has_value()) ++failures;
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(failures, 0);

  auto plan = other_process.LatestChunkPlan("big");
  ASSERT_TRUE(plan.has_value() && plan->has_value());
  ASSERT_EQ((*plan)->tasks.size(), static_cast<size_t>(kTasks));
  for (const ChunkTask& t : (*plan)->tasks) {
    EXPECT_EQ(t.status, ChunkStatus::kCompleted) << t.idx;
    EXPECT_EQ(t.attempts, 1) << t.idx;
    EXPECT_EQ(t.rows, t.idx);
  }
  auto files = other_process.ListFiles(std::string("big"), 1000);
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(files->size(), static_cast<size_t>(kTasks));
}

// --- schema history -------------------------------------------------------------------------

TEST(StateStoreSchema, LastSchemaIsTheMostRecentOfThatExport) {
  TempDir dir;
  StateStore store = OpenStore(dir.File(".rivet_state.db"));
  auto none = store.LastSchema("orders");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  const std::vector<SchemaColumn> v1 = {{"id", "int64"}, {"price", "float64"}};
  const std::vector<SchemaColumn> v2 = {{"id", "int64"}, {"price", "string"}, {"phone", "string"}};
  const std::vector<SchemaColumn> users = {{"email", "string"}};
  ASSERT_TRUE(store.RecordSchema("orders", "orders_r1", v1).ok());
  ASSERT_TRUE(store.RecordSchema("users", "users_r1", users).ok());
  ASSERT_TRUE(store.RecordSchema("orders", "orders_r2", v2).ok());

  auto last = store.LastSchema("orders");
  ASSERT_TRUE(last.has_value() && last->has_value()) << last.status().message();
  EXPECT_EQ(**last, v2);
  auto last_users = store.LastSchema("users");
  ASSERT_TRUE(last_users.has_value() && last_users->has_value());
  EXPECT_EQ(**last_users, users);
}

TEST(StateStoreSchema, AwkwardNamesAndEmptySchemasRoundTrip) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  const std::vector<SchemaColumn> columns = {
      {"quote\"d", "string"},
      {"back\\slash", "decimal(38,10)"},
      {"new\nline", "list<int32>"},
      {"caf\xC3\xA9", "timestamp[us, UTC]"},
      {"", "bool"},
  };
  ASSERT_TRUE(store.RecordSchema("odd", "odd_r1", columns).ok());
  auto last = store.LastSchema("odd");
  ASSERT_TRUE(last.has_value() && last->has_value()) << last.status().message();
  EXPECT_EQ(**last, columns);

  ASSERT_TRUE(store.RecordSchema("empty", "empty_r1", {}).ok());
  auto empty = store.LastSchema("empty");
  ASSERT_TRUE(empty.has_value() && empty->has_value());
  EXPECT_TRUE((*empty)->empty());

  sqlite::Database raw = RawOpen(path);
  EXPECT_EQ(QueryText(raw, "SELECT columns FROM schema_history WHERE export_name = 'empty'"), "[]");
  EXPECT_EQ(QueryText(raw, "SELECT run_id FROM schema_history WHERE export_name = 'odd'"),
            "odd_r1");
}

TEST(StateStoreSchema, MalformedHistoryIsReportedAsCorrupt) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore store = OpenStore(path);
  {
    sqlite::Database raw = RawOpen(path);
    ASSERT_TRUE(raw.Exec("INSERT INTO schema_history (export_name, run_id, recorded_at, columns) "
                         "VALUES ('x', 'x_r1', '2026-03-29T16:00:00+00:00', '[{\"name\": 1}]')")
                    .ok());
  }
  auto last = store.LastSchema("x");
  ASSERT_FALSE(last.has_value());
  EXPECT_EQ(last.error().code(), ErrorCode::kCorrupt);
}

// --- two handles on one file ----------------------------------------------------------------

TEST(StateStoreConcurrency, TwoHandlesWriteAtTheSameTime) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  // Both handles migrate the fresh file at once: one applies, the other sees it applied.
  std::optional<StateStore> first;
  std::optional<StateStore> second;
  {
    std::thread opener([&] { first.emplace(OpenStore(path)); });
    second.emplace(OpenStore(path));
    opener.join();
  }
  ASSERT_TRUE(first.has_value() && second.has_value());

  constexpr int kRunsPerWriter = 100;
  auto write = [](StateStore& store, const std::string& prefix) {
    for (int i = 0; i < kRunsPerWriter; ++i) {
      const std::string id = fmt::format("{}_{:03}", prefix, i);
      ASSERT_TRUE(store.RecordRun(MakeRun(id, prefix, "2026-03-29T16:00:00+00:00")).ok());
      ASSERT_TRUE(
          store.SetCursor({prefix, "id", std::to_string(i), "2026-03-29T16:00:00+00:00"}).ok());
    }
  };
  std::thread writer([&] { write(*first, "a"); });
  write(*second, "b");
  writer.join();

  auto runs = first->ListRuns(std::nullopt, 1000);
  ASSERT_TRUE(runs.has_value());
  EXPECT_EQ(runs->size(), 2u * kRunsPerWriter);
  auto cursors = second->ListCursors();
  ASSERT_TRUE(cursors.has_value());
  ASSERT_EQ(cursors->size(), 2u);
  EXPECT_EQ((*cursors)[0].last_cursor, std::to_string(kRunsPerWriter - 1));
  EXPECT_EQ((*cursors)[1].last_cursor, std::to_string(kRunsPerWriter - 1));
  sqlite::Database raw = RawOpen(path);
  EXPECT_EQ(QueryInt(raw, "SELECT COUNT(*) FROM schema_migrations"),
            static_cast<int64_t>(Migrations().size()));
}

TEST(StateStoreConcurrency, ReadersAreNotBlockedAndWritersWaitForTheLock) {
  TempDir dir;
  const std::string path = dir.File(".rivet_state.db");
  StateStore reader = OpenStore(path);
  StateStore writer = OpenStore(path);
  ASSERT_TRUE(reader.RecordRun(MakeRun("r0", "orders", "2026-03-29T10:00:00+00:00")).ok());

  // Another process holds the write lock with an uncommitted run.
  sqlite::Database other = RawOpen(path);
  ASSERT_TRUE(other.Exec("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE(other
                  .Exec("INSERT INTO runs (run_id, export_name, status, started_at, finished_at, "
                        "profile) VALUES ('r1', 'orders', 'success', '2026-03-29T11:00:00+00:00', "
                        "'2026-03-29T11:00:00+00:00', 'fast')")
                  .ok());
  // WAL: reading does not wait for the writer and sees only committed rows.
  auto during = reader.ListRuns(std::nullopt, 10);
  ASSERT_TRUE(during.has_value()) << during.error().message();
  EXPECT_EQ(RunIds(*during), std::vector<std::string>{"r0"});

  // A write from another handle waits in the busy handler until the lock is released.
  Status write_status;
  std::thread blocked([&] {
    write_status = writer.RecordRun(MakeRun("r2", "orders", "2026-03-29T12:00:00+00:00"));
  });
  ASSERT_TRUE(other.Exec("COMMIT").ok());
  blocked.join();
  EXPECT_TRUE(write_status.ok()) << write_status.message();

  auto after = reader.ListRuns(std::nullopt, 10);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(RunIds(*after), (std::vector<std::string>{"r2", "r1", "r0"}));
}

}  // namespace
}  // namespace rivet::state
