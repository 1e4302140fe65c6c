#include "rivet/state/state.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "rivet/common/clock.h"
#include "rivet/state/migrations.h"
#include "rivet/state/sqlite.h"

namespace rivet::state {

namespace {

constexpr std::string_view kPass = "pass";
constexpr std::string_view kFail = "FAIL";

std::optional<std::string> PassFail(const std::optional<bool>& value) {
  if (!value) return std::nullopt;
  return std::string(*value ? kPass : kFail);
}

std::optional<bool> ParsePassFail(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return *text == kPass;
}

template <typename Enum, size_t N>
Result<Enum> ParseEnum(const std::string& text, const Enum (&values)[N], std::string_view what) {
  for (Enum value : values) {
    if (text == ToString(value)) return value;
  }
  return Error(ErrorCode::kCorrupt, "state database: unknown {} '{}'", what, text);
}

Result<RunStatus> ParseRunStatus(const std::string& text) {
  constexpr RunStatus kAll[] = {RunStatus::kSuccess, RunStatus::kFailed, RunStatus::kSkipped,
                                RunStatus::kDegraded};
  return ParseEnum(text, kAll, "run status");
}

std::optional<ErrorCode> ParseErrorCode(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  for (auto raw = static_cast<uint8_t>(ErrorCode::kOk);
       raw <= static_cast<uint8_t>(ErrorCode::kInternal); ++raw) {
    const auto code = static_cast<ErrorCode>(raw);
    if (*text == ErrorCodeName(code)) return code;
  }
  // A code written by a newer Rivet: keep the run readable.
  return ErrorCode::kInternal;
}

Result<int64_t> CheckedLimit(int64_t limit) {
  if (limit < 1) return Error(ErrorCode::kConfig, "the number of rows to list must be at least 1");
  return limit;
}

std::string ColumnsToJson(const std::vector<SchemaColumn>& columns) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& column : columns) {
    array.push_back(nlohmann::json{{"name", column.name}, {"type", column.type}});
  }
  // `replace` keeps dump() from throwing on a name that is not valid UTF-8.
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<SchemaColumn>> ColumnsFromJson(const std::string& text) {
  const auto corrupt = [] {
    return Error(ErrorCode::kCorrupt, "state database: malformed schema history entry");
  };
  const nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (array.is_discarded() || !array.is_array()) return corrupt();
  std::vector<SchemaColumn> columns;
  columns.reserve(array.size());
  for (const auto& item : array) {
    if (!item.is_object()) return corrupt();
    auto name = item.find("name");
    auto type = item.find("type");
    if (name == item.end() || type == item.end() || !name->is_string() || !type->is_string()) {
      return corrupt();
    }
    columns.push_back({name->get<std::string>(), type->get<std::string>()});
  }
  return columns;
}

Status InsertFile(sqlite::Database& db, const FileRecord& file) {
  RIVET_ASSIGN_OR_RETURN(auto stmt, db.Prepare(R"sql(
INSERT INTO files (run_id, export_name, file_name, location, rows, bytes, format, compression,
                   created_at, part_index)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
)sql"));
  stmt.Bind(1, file.run_id)
      .Bind(2, file.export_name)
      .Bind(3, file.file_name)
      .Bind(4, file.location)
      .Bind(5, file.rows)
      .Bind(6, file.bytes)
      .Bind(7, file.format)
      .Bind(8, file.compression)
      .Bind(9, file.created_at)
      .Bind(10, file.part_index);
  return stmt.Run();
}

std::string Now() { return FormatIsoSeconds(std::chrono::system_clock::now()); }

Result<ChunkStatus> ParseChunkStatus(const std::string& text) {
  constexpr ChunkStatus kAll[] = {ChunkStatus::kPending, ChunkStatus::kRunning,
                                  ChunkStatus::kCompleted, ChunkStatus::kFailed};
  return ParseEnum(text, kAll, "chunk status");
}

Result<ChunkPlanStatus> ParsePlanStatus(const std::string& text) {
  constexpr ChunkPlanStatus kAll[] = {ChunkPlanStatus::kInProgress, ChunkPlanStatus::kCompleted,
                                      ChunkPlanStatus::kFailed};
  return ParseEnum(text, kAll, "chunk plan status");
}

// The export's newest plan, only in_progress ones when `in_progress_only`, with its tasks.
Result<std::optional<ChunkPlan>> NewestChunkPlan(sqlite::Database& db, std::string_view export_name,
                                                 bool in_progress_only) {
  RIVET_ASSIGN_OR_RETURN(auto stmt, db.Prepare(R"sql(
SELECT run_id, export_name, plan_hash, query_hash, chunk_column, chunk_size, status, created_at,
       updated_at
FROM chunk_runs
WHERE export_name = ?1 AND (?2 = 0 OR status = 'in_progress')
ORDER BY created_at DESC, rowid DESC
LIMIT 1
)sql"));
  stmt.Bind(1, export_name).Bind(2, int64_t{in_progress_only ? 1 : 0});
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ChunkPlan>();
  ChunkPlan plan;
  plan.run_id = stmt.Text(0);
  plan.export_name = stmt.Text(1);
  plan.plan_hash = stmt.Text(2);
  plan.query_hash = stmt.Text(3);
  plan.chunk_column = stmt.Text(4);
  plan.chunk_size = stmt.Int(5);
  RIVET_ASSIGN_OR_RETURN(plan.status, ParsePlanStatus(stmt.Text(6)));
  plan.created_at = stmt.Text(7);
  plan.updated_at = stmt.Text(8);

  RIVET_ASSIGN_OR_RETURN(auto tasks, db.Prepare(R"sql(
SELECT idx, start_key, end_key, status, attempts, rows, file_name, last_error
FROM chunk_tasks WHERE run_id = ?1 ORDER BY idx
)sql"));
  tasks.Bind(1, plan.run_id);
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool more, tasks.Step());
    if (!more) break;
    ChunkTask t;
    t.idx = tasks.Int(0);
    t.start_key = tasks.Text(1);
    t.end_key = tasks.Text(2);
    RIVET_ASSIGN_OR_RETURN(t.status, ParseChunkStatus(tasks.Text(3)));
    t.attempts = tasks.Int(4);
    t.rows = tasks.Int(5);
    t.file_name = tasks.OptionalText(6);
    t.last_error = tasks.OptionalText(7);
    plan.tasks.push_back(std::move(t));
  }
  return std::optional<ChunkPlan>(std::move(plan));
}

// Bumps the plan's updated_at (every task change is progress of the plan).
Status TouchPlan(sqlite::Database& db, std::string_view run_id) {
  RIVET_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("UPDATE chunk_runs SET updated_at = ?2 WHERE run_id = ?1"));
  stmt.Bind(1, run_id).Bind(2, Now());
  return stmt.Run();
}

// Runs one UPDATE of a task and touches its plan, inside the caller's transaction; a task that
// does not exist is a Rivet bug, never a silent no-op.
template <typename BindFn>
Status UpdateTask(sqlite::Database& db, std::string_view sql, std::string_view run_id, int64_t idx,
                  BindFn bind) {
  RIVET_ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql));
  stmt.Bind(1, run_id).Bind(2, idx);
  bind(stmt);
  RIVET_RETURN_IF_ERROR(stmt.Run());
  if (db.Changes() != 1) {
    return Error(ErrorCode::kInternal, "state database: chunk {} of run {} is not in the plan", idx,
                 run_id);
  }
  return TouchPlan(db, run_id);
}

}  // namespace

std::string_view ToString(ChunkStatus status) {
  switch (status) {
    case ChunkStatus::kPending:
      return "pending";
    case ChunkStatus::kRunning:
      return "running";
    case ChunkStatus::kCompleted:
      return "completed";
    case ChunkStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view ToString(ChunkPlanStatus status) {
  switch (status) {
    case ChunkPlanStatus::kInProgress:
      return "in_progress";
    case ChunkPlanStatus::kCompleted:
      return "completed";
    case ChunkPlanStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view ToString(RunStatus status) {
  switch (status) {
    case RunStatus::kSuccess:
      return "success";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kSkipped:
      return "skipped";
    case RunStatus::kDegraded:
      return "degraded";
  }
  return "unknown";
}

Result<StateStore> StateStore::Open(const std::string& path) {
  RIVET_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path));
  // The busy timeout comes first so that switching to WAL and migrating wait for another
  // process's lock instead of failing at once.
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  RIVET_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL"));
  RIVET_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  RIVET_RETURN_IF_ERROR(ApplyMigrations(db, path));
  return StateStore(std::make_unique<sqlite::Database>(std::move(db)));
}

StateStore::StateStore(std::unique_ptr<sqlite::Database> db)
    : db_(std::move(db)), mutex_(std::make_unique<std::mutex>()) {}
StateStore::StateStore(StateStore&&) noexcept = default;
StateStore& StateStore::operator=(StateStore&&) noexcept = default;
StateStore::~StateStore() = default;

Result<int64_t> StateStore::SchemaVersion() {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT MAX(version) FROM schema_migrations"));
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row || stmt.IsNull(0)) return int64_t{0};
  return stmt.Int(0);
}

Status StateStore::RecordRun(const RunRecord& run) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
INSERT OR REPLACE INTO runs (
  run_id, export_name, status, started_at, finished_at, rows, files, bytes, duration_ms,
  peak_rss_bytes, retries, profile, batch_size, validated, schema_changed, quality,
  error_message, error_code)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
)sql"));
  std::optional<std::string> error_code;
  if (run.error_code) error_code = std::string(ErrorCodeName(*run.error_code));
  stmt.Bind(1, run.run_id)
      .Bind(2, run.export_name)
      .Bind(3, ToString(run.status))
      .Bind(4, run.started_at)
      .Bind(5, run.finished_at)
      .Bind(6, run.rows)
      .Bind(7, run.files)
      .Bind(8, run.bytes)
      .Bind(9, run.duration_ms)
      .Bind(10, run.peak_rss_bytes)
      .Bind(11, run.retries)
      .Bind(12, run.profile)
      .Bind(13, run.batch_size)
      .BindOptional(14, PassFail(run.validated))
      .Bind(15, int64_t{run.schema_changed ? 1 : 0})
      .BindOptional(16, PassFail(run.quality_passed))
      .BindOptional(17, run.error_message)
      .BindOptional(18, error_code);
  return stmt.Run();
}

Result<std::vector<RunRecord>> StateStore::ListRuns(const std::optional<std::string>& export_name,
                                                    int64_t limit) {
  RIVET_ASSIGN_OR_RETURN(limit, CheckedLimit(limit));
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT run_id, export_name, status, started_at, finished_at, rows, files, bytes, duration_ms,
       peak_rss_bytes, retries, profile, batch_size, validated, schema_changed, quality,
       error_message, error_code
FROM runs
WHERE ?1 IS NULL OR export_name = ?1
ORDER BY started_at DESC, rowid DESC
LIMIT ?2
)sql"));
  stmt.BindOptional(1, export_name).Bind(2, limit);
  std::vector<RunRecord> runs;
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    RunRecord run;
    run.run_id = stmt.Text(0);
    run.export_name = stmt.Text(1);
    RIVET_ASSIGN_OR_RETURN(run.status, ParseRunStatus(stmt.Text(2)));
    run.started_at = stmt.Text(3);
    run.finished_at = stmt.Text(4);
    run.rows = stmt.Int(5);
    run.files = stmt.Int(6);
    run.bytes = stmt.Int(7);
    run.duration_ms = stmt.Int(8);
    run.peak_rss_bytes = stmt.Int(9);
    run.retries = stmt.Int(10);
    run.profile = stmt.Text(11);
    run.batch_size = stmt.Int(12);
    run.validated = ParsePassFail(stmt.OptionalText(13));
    run.schema_changed = stmt.Int(14) != 0;
    run.quality_passed = ParsePassFail(stmt.OptionalText(15));
    run.error_message = stmt.OptionalText(16);
    run.error_code = ParseErrorCode(stmt.OptionalText(17));
    runs.push_back(std::move(run));
  }
  return runs;
}

Status StateStore::RecordFile(const FileRecord& file) {
  std::lock_guard lock(*mutex_);
  return InsertFile(*db_, file);
}

Result<std::vector<FileRecord>> StateStore::ListFiles(const std::optional<std::string>& export_name,
                                                      int64_t limit) {
  RIVET_ASSIGN_OR_RETURN(limit, CheckedLimit(limit));
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT run_id, export_name, file_name, location, rows, bytes, format, compression, created_at,
       part_index
FROM files
WHERE ?1 IS NULL OR export_name = ?1
ORDER BY created_at DESC, id DESC
LIMIT ?2
)sql"));
  stmt.BindOptional(1, export_name).Bind(2, limit);
  std::vector<FileRecord> files;
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    FileRecord file;
    file.run_id = stmt.Text(0);
    file.export_name = stmt.Text(1);
    file.file_name = stmt.Text(2);
    file.location = stmt.Text(3);
    file.rows = stmt.Int(4);
    file.bytes = stmt.Int(5);
    file.format = stmt.Text(6);
    file.compression = stmt.Text(7);
    file.created_at = stmt.Text(8);
    file.part_index = stmt.Int(9);
    files.push_back(std::move(file));
  }
  return files;
}

Result<std::optional<CursorState>> StateStore::GetCursor(std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT export_name, cursor_column, last_cursor, updated_at, cursor_type FROM cursors
WHERE export_name = ?1
)sql"));
  stmt.Bind(1, export_name);
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<CursorState>();
  return std::optional<CursorState>(
      CursorState{stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Text(4)});
}

Status StateStore::SetCursor(const CursorState& cursor) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
INSERT INTO cursors (export_name, cursor_column, last_cursor, updated_at, cursor_type)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (export_name) DO UPDATE SET
  cursor_column = excluded.cursor_column,
  last_cursor = excluded.last_cursor,
  updated_at = excluded.updated_at,
  cursor_type = excluded.cursor_type
)sql"));
  stmt.Bind(1, cursor.export_name)
      .Bind(2, cursor.cursor_column)
      .Bind(3, cursor.last_cursor)
      .Bind(4, cursor.updated_at)
      .Bind(5, cursor.cursor_type);
  return stmt.Run();
}

Result<std::vector<CursorState>> StateStore::ListCursors() {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT export_name, cursor_column, last_cursor, updated_at, cursor_type FROM cursors
ORDER BY export_name
)sql"));
  std::vector<CursorState> cursors;
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    cursors.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Text(4)});
  }
  return cursors;
}

Result<bool> StateStore::ResetExport(std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*db_));
  RIVET_ASSIGN_OR_RETURN(auto cursors, db_->Prepare("DELETE FROM cursors WHERE export_name = ?1"));
  cursors.Bind(1, export_name);
  RIVET_RETURN_IF_ERROR(cursors.Run());
  int64_t removed = db_->Changes();
  // chunk_tasks rows go with their plan (ON DELETE CASCADE).
  RIVET_ASSIGN_OR_RETURN(auto plans, db_->Prepare("DELETE FROM chunk_runs WHERE export_name = ?1"));
  plans.Bind(1, export_name);
  RIVET_RETURN_IF_ERROR(plans.Run());
  removed += db_->Changes();
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return removed > 0;
}

Result<bool> StateStore::ResetChunks(std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto plans, db_->Prepare("DELETE FROM chunk_runs WHERE export_name = ?1"));
  plans.Bind(1, export_name);
  RIVET_RETURN_IF_ERROR(plans.Run());
  return db_->Changes() > 0;
}

Result<bool> StateStore::HasChunkPlan(std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("SELECT EXISTS (SELECT 1 FROM chunk_runs WHERE export_name = ?1)"));
  stmt.Bind(1, export_name);
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row && stmt.Int(0) != 0;
}

Status StateStore::CreateChunkPlan(const ChunkPlan& plan) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*db_));
  RIVET_ASSIGN_OR_RETURN(auto run, db_->Prepare(R"sql(
INSERT INTO chunk_runs (run_id, export_name, plan_hash, query_hash, chunk_column, chunk_size,
                        status, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
)sql"));
  run.Bind(1, plan.run_id)
      .Bind(2, plan.export_name)
      .Bind(3, plan.plan_hash)
      .Bind(4, plan.query_hash)
      .Bind(5, plan.chunk_column)
      .Bind(6, plan.chunk_size)
      .Bind(7, ToString(plan.status))
      .Bind(8, plan.created_at)
      .Bind(9, plan.updated_at);
  RIVET_RETURN_IF_ERROR(run.Run());
  for (const ChunkTask& t : plan.tasks) {
    RIVET_ASSIGN_OR_RETURN(auto task, db_->Prepare(R"sql(
INSERT INTO chunk_tasks (run_id, idx, start_key, end_key, status, attempts, rows, file_name,
                         last_error)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
)sql"));
    task.Bind(1, plan.run_id)
        .Bind(2, t.idx)
        .Bind(3, t.start_key)
        .Bind(4, t.end_key)
        .Bind(5, ToString(t.status))
        .Bind(6, t.attempts)
        .Bind(7, t.rows)
        .BindOptional(8, t.file_name)
        .BindOptional(9, t.last_error);
    RIVET_RETURN_IF_ERROR(task.Run());
  }
  return transaction.Commit();
}

Result<std::optional<ChunkPlan>> StateStore::InProgressChunkPlan(std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  return NewestChunkPlan(*db_, export_name, /*in_progress_only=*/true);
}

Result<std::optional<ChunkPlan>> StateStore::LatestChunkPlan(std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  return NewestChunkPlan(*db_, export_name, /*in_progress_only=*/false);
}

Result<int64_t> StateStore::ResetUnfinishedChunks(std::string_view run_id) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*db_));
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
UPDATE chunk_tasks SET status = 'pending' WHERE run_id = ?1 AND status IN ('running', 'failed')
)sql"));
  stmt.Bind(1, run_id);
  RIVET_RETURN_IF_ERROR(stmt.Run());
  const int64_t changed = db_->Changes();
  RIVET_ASSIGN_OR_RETURN(auto plan, db_->Prepare(R"sql(
UPDATE chunk_runs SET status = 'in_progress', updated_at = ?2 WHERE run_id = ?1
)sql"));
  plan.Bind(1, run_id).Bind(2, Now());
  RIVET_RETURN_IF_ERROR(plan.Run());
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return changed;
}

Status StateStore::StartChunk(std::string_view run_id, int64_t idx) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*db_));
  RIVET_RETURN_IF_ERROR(UpdateTask(*db_, R"sql(
UPDATE chunk_tasks SET status = 'running', attempts = attempts + 1 WHERE run_id = ?1 AND idx = ?2
)sql",
                                   run_id, idx, [](sqlite::Statement&) {}));
  return transaction.Commit();
}

Status StateStore::CompleteChunk(std::string_view run_id, int64_t idx, int64_t rows,
                                 const std::vector<FileRecord>& files) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*db_));
  std::optional<std::string> names;
  for (const FileRecord& f : files) {
    RIVET_RETURN_IF_ERROR(InsertFile(*db_, f));
    names = names ? *names + "," + f.file_name : f.file_name;
  }
  RIVET_RETURN_IF_ERROR(UpdateTask(
      *db_, R"sql(
UPDATE chunk_tasks SET status = 'completed', rows = ?3, file_name = ?4, last_error = NULL
WHERE run_id = ?1 AND idx = ?2
)sql",
      run_id, idx, [&](sqlite::Statement& stmt) { stmt.Bind(3, rows).BindOptional(4, names); }));
  return transaction.Commit();
}

Status StateStore::FailChunk(std::string_view run_id, int64_t idx, ChunkStatus status,
                             std::string_view error) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*db_));
  RIVET_RETURN_IF_ERROR(UpdateTask(*db_, R"sql(
UPDATE chunk_tasks SET status = ?3, last_error = ?4 WHERE run_id = ?1 AND idx = ?2
)sql",
                                   run_id, idx, [&](sqlite::Statement& stmt) {
                                     stmt.Bind(3, ToString(status)).Bind(4, error);
                                   }));
  return transaction.Commit();
}

Status StateStore::SetChunkPlanStatus(std::string_view run_id, ChunkPlanStatus status) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
UPDATE chunk_runs SET status = ?2, updated_at = ?3 WHERE run_id = ?1
)sql"));
  stmt.Bind(1, run_id).Bind(2, ToString(status)).Bind(3, Now());
  RIVET_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() != 1) {
    return Error(ErrorCode::kInternal, "state database: no chunk plan for run {}", run_id);
  }
  return Status::Ok();
}

Result<std::optional<std::vector<SchemaColumn>>> StateStore::LastSchema(
    std::string_view export_name) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT columns FROM schema_history WHERE export_name = ?1 ORDER BY id DESC LIMIT 1
)sql"));
  stmt.Bind(1, export_name);
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::vector<SchemaColumn>>();
  RIVET_ASSIGN_OR_RETURN(auto columns, ColumnsFromJson(stmt.Text(0)));
  return std::optional<std::vector<SchemaColumn>>(std::move(columns));
}

Status StateStore::RecordSchema(std::string_view export_name, std::string_view run_id,
                                const std::vector<SchemaColumn>& columns) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
INSERT INTO schema_history (export_name, run_id, recorded_at, columns) VALUES (?1, ?2, ?3, ?4)
)sql"));
  stmt.Bind(1, export_name).Bind(2, run_id).Bind(3, Now()).Bind(4, ColumnsToJson(columns));
  return stmt.Run();
}

}  // namespace rivet::state
