#include "rivet/state/state.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "rivet/common/clock.h"
#include "rivet/state/connection.h"
#include "rivet/state/migrations.h"

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

Status InsertFile(Connection& db, const FileRecord& file) {
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
Result<std::optional<ChunkPlan>> NewestChunkPlan(Connection& db, std::string_view export_name,
                                                 bool in_progress_only) {
  RIVET_ASSIGN_OR_RETURN(auto stmt, db.Prepare(fmt::format(R"sql(
SELECT run_id, export_name, plan_hash, query_hash, chunk_column, chunk_size, status, created_at,
       updated_at
FROM chunk_runs
WHERE export_name = ?1 AND (?2 = 0 OR status = 'in_progress')
ORDER BY created_at DESC, {} DESC
LIMIT 1
)sql",
                                                           SqlOf(db.dialect()).recorded_order)));
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
Status TouchPlan(Connection& db, std::string_view run_id) {
  RIVET_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("UPDATE chunk_runs SET updated_at = ?2 WHERE run_id = ?1"));
  stmt.Bind(1, run_id).Bind(2, Now());
  return stmt.Run();
}

// Runs one UPDATE of a task and touches its plan, inside the caller's transaction; a task that
// does not exist is a Rivet bug, never a silent no-op.
template <typename BindFn>
Status UpdateTask(Connection& db, std::string_view sql, std::string_view run_id, int64_t idx,
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

// Writes the plan and its tasks inside the caller's transaction.
Status InsertPlan(Connection& db, const ChunkPlan& plan) {
  RIVET_ASSIGN_OR_RETURN(auto run, db.Prepare(R"sql(
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
    RIVET_ASSIGN_OR_RETURN(auto task, db.Prepare(R"sql(
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
  return Status::Ok();
}

// 16 random bytes as 32 hex digits: a claim's token, unguessable by another worker.
std::string NewClaimToken() {
  std::random_device random;
  std::string token;
  token.reserve(32);
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    const uint32_t word = random();
    for (int shift = 28; shift >= 0; shift -= 4) token += kHex[(word >> shift) & 0xf];
  }
  return token;
}

// True when the task is still claimed by `token`; on PostgreSQL the row stays locked until the
// transaction ends, so the fenced write that follows cannot race a takeover.
Result<bool> ClaimHolds(Connection& db, std::string_view run_id, int64_t idx,
                        std::string_view token) {
  RIVET_ASSIGN_OR_RETURN(auto stmt, db.Prepare(fmt::format(R"sql(
SELECT 1 FROM chunk_tasks
WHERE run_id = ?1 AND idx = ?2 AND claim_token = ?3 AND status = 'running'{}
)sql",
                                                           SqlOf(db.dialect()).for_update)));
  stmt.Bind(1, run_id).Bind(2, idx).Bind(3, token);
  return stmt.Step();
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

Result<StateStore> OpenStateStore(const StateLocation& location) {
  if (location.postgres_url.empty()) return StateStore::Open(location.sqlite_path);
  RIVET_ASSIGN_OR_RETURN(auto connection, OpenPostgresConnection(location.postgres_url));
  return StateStore::Over(std::move(connection));
}

Result<StateStore> StateStore::Open(const std::string& path) {
  RIVET_ASSIGN_OR_RETURN(auto connection, OpenSqliteConnection(path, kBusyTimeoutMs));
  return Over(std::move(connection));
}

Result<StateStore> StateStore::Over(std::unique_ptr<Connection> connection) {
  RIVET_RETURN_IF_ERROR(ApplyMigrations(*connection));
  return StateStore(std::move(connection));
}

StateStore::StateStore(std::unique_ptr<Connection> db)
    : db_(std::move(db)), mutex_(std::make_unique<std::mutex>()) {}
StateStore::StateStore(StateStore&&) noexcept = default;
StateStore& StateStore::operator=(StateStore&&) noexcept = default;
StateStore::~StateStore() = default;

namespace {

// Every table of the schema with the columns a copy carries: all but the generated ids, which
// the target assigns again in the order the rows arrive (their recording order).
struct CopiedTable {
  const char* name;
  const char* columns;
  int count;  // of columns
};
constexpr CopiedTable kCopiedTables[] = {
    {"runs",
     "run_id, export_name, status, started_at, finished_at, rows, files, bytes, duration_ms, "
     "peak_rss_bytes, retries, profile, batch_size, validated, schema_changed, quality, "
     "error_message, error_code",
     18},
    {"files",
     "run_id, export_name, file_name, location, rows, bytes, format, compression, created_at, "
     "part_index",
     10},
    {"cursors", "export_name, last_cursor, cursor_column, updated_at, cursor_type", 5},
    {"schema_history", "export_name, run_id, recorded_at, columns", 4},
    {"chunk_runs",
     "run_id, export_name, plan_hash, status, created_at, updated_at, query_hash, chunk_column, "
     "chunk_size",
     9},
    {"chunk_tasks",
     "run_id, idx, start_key, end_key, status, attempts, rows, file_name, last_error, "
     "claim_token, lease_until_ms, worker",
     12},
};

}  // namespace

Result<CopiedState> StateStore::CopyInto(StateStore& target) {
  std::scoped_lock lock(*mutex_, *target.mutex_);
  Connection& to = *target.db_;
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(to));
  for (const char* table : {"runs", "files", "cursors", "chunk_runs"}) {
    RIVET_ASSIGN_OR_RETURN(auto probe, to.Prepare(fmt::format("SELECT 1 FROM {} LIMIT 1", table)));
    RIVET_ASSIGN_OR_RETURN(bool any, probe.Step());
    if (any) {
      return Error(ErrorCode::kConfig,
                   "state store {} already holds {}: rivet state migrate copies into an empty "
                   "store only (nothing was copied); point --to at a new database or schema",
                   to.description(), table);
    }
  }
  int64_t counts[std::size(kCopiedTables)] = {};
  for (size_t t = 0; t < std::size(kCopiedTables); ++t) {
    const CopiedTable& table = kCopiedTables[t];
    std::string placeholders;
    for (int c = 1; c <= table.count; ++c) {
      placeholders += fmt::format("{}?{}", c == 1 ? "" : ", ", c);
    }
    RIVET_ASSIGN_OR_RETURN(
        auto read, db_->Prepare(fmt::format("SELECT {} FROM {} ORDER BY {}", table.columns,
                                            table.name, SqlOf(db_->dialect()).recorded_order)));
    for (;;) {
      RIVET_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      RIVET_ASSIGN_OR_RETURN(auto write,
                             to.Prepare(fmt::format("INSERT INTO {} ({}) VALUES ({})", table.name,
                                                    table.columns, placeholders)));
      // Text for every value: both engines convert it to the column's type exactly.
      for (int c = 0; c < table.count; ++c) write.BindOptional(c + 1, read.OptionalText(c));
      RIVET_RETURN_IF_ERROR(write.Run().WithContext(fmt::format("copying {}", table.name)));
      ++counts[t];
    }
  }
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return CopiedState{counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]};
}

Result<int64_t> StateStore::SchemaVersion() {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT MAX(version) FROM schema_migrations"));
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row || stmt.IsNull(0)) return int64_t{0};
  return stmt.Int(0);
}

Status StateStore::RecordRun(const RunRecord& run) {
  std::lock_guard lock(*mutex_);
  // Delete, then insert: a replaced run takes a new place in recording order, as SQLite's
  // INSERT OR REPLACE gave it, on both backends.
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  RIVET_ASSIGN_OR_RETURN(auto old, db_->Prepare("DELETE FROM runs WHERE run_id = ?1"));
  old.Bind(1, run.run_id);
  RIVET_RETURN_IF_ERROR(old.Run());
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
INSERT INTO runs (
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
  RIVET_RETURN_IF_ERROR(stmt.Run());
  return transaction.Commit();
}

Result<std::vector<RunRecord>> StateStore::ListRuns(const std::optional<std::string>& export_name,
                                                    int64_t limit) {
  RIVET_ASSIGN_OR_RETURN(limit, CheckedLimit(limit));
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt,
                         db_->Prepare(fmt::format(R"sql(
SELECT run_id, export_name, status, started_at, finished_at, rows, files, bytes, duration_ms,
       peak_rss_bytes, retries, profile, batch_size, validated, schema_changed, quality,
       error_message, error_code
FROM runs
WHERE CAST(?1 AS TEXT) IS NULL OR export_name = ?1
ORDER BY started_at DESC, {} DESC
LIMIT ?2
)sql",
                                                  SqlOf(db_->dialect()).recorded_order)));
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
WHERE CAST(?1 AS TEXT) IS NULL OR export_name = ?1
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
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
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
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  RIVET_RETURN_IF_ERROR(InsertPlan(*db_, plan));
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
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
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
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  RIVET_RETURN_IF_ERROR(UpdateTask(*db_, R"sql(
UPDATE chunk_tasks SET status = 'running', attempts = attempts + 1 WHERE run_id = ?1 AND idx = ?2
)sql",
                                   run_id, idx, [](Statement&) {}));
  return transaction.Commit();
}

Status StateStore::CompleteChunk(std::string_view run_id, int64_t idx, int64_t rows,
                                 const std::vector<FileRecord>& files) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  std::optional<std::string> names;
  for (const FileRecord& f : files) {
    RIVET_RETURN_IF_ERROR(InsertFile(*db_, f));
    names = names ? *names + "," + f.file_name : f.file_name;
  }
  RIVET_RETURN_IF_ERROR(
      UpdateTask(*db_, R"sql(
UPDATE chunk_tasks SET status = 'completed', rows = ?3, file_name = ?4, last_error = NULL
WHERE run_id = ?1 AND idx = ?2
)sql",
                 run_id, idx, [&](Statement& stmt) { stmt.Bind(3, rows).BindOptional(4, names); }));
  return transaction.Commit();
}

Status StateStore::FailChunk(std::string_view run_id, int64_t idx, ChunkStatus status,
                             std::string_view error) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  RIVET_RETURN_IF_ERROR(UpdateTask(
      *db_, R"sql(
UPDATE chunk_tasks SET status = ?3, last_error = ?4 WHERE run_id = ?1 AND idx = ?2
)sql",
      run_id, idx, [&](Statement& stmt) { stmt.Bind(3, ToString(status)).Bind(4, error); }));
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

Result<JoinedPlan> StateStore::CreateOrJoinChunkPlan(const ChunkPlan& plan) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  // One creator per export: processes that start together wait here, then find the plan.
  RIVET_RETURN_IF_ERROR(db_->LockText("rivet chunk plan " + plan.export_name));
  RIVET_ASSIGN_OR_RETURN(auto existing,
                         NewestChunkPlan(*db_, plan.export_name, /*in_progress_only=*/true));
  if (existing) return JoinedPlan{std::move(*existing), false};
  RIVET_RETURN_IF_ERROR(InsertPlan(*db_, plan));
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return JoinedPlan{plan, true};
}

Result<std::optional<ChunkClaim>> StateStore::ClaimChunk(std::string_view run_id,
                                                         std::chrono::milliseconds lease,
                                                         std::string_view worker,
                                                         int64_t max_attempts) {
  std::lock_guard lock(*mutex_);
  const DialectSql& sql = SqlOf(db_->dialect());
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  if (max_attempts > 0) {
    // A chunk whose every worker died holding it (killed, out of memory, cut off) would
    // otherwise be handed on for ever: after max_attempts claims it fails for good, which
    // stops every worker with its message.
    RIVET_ASSIGN_OR_RETURN(auto give_up, db_->Prepare(fmt::format(R"sql(
UPDATE chunk_tasks
SET status = 'failed', claim_token = NULL, lease_until_ms = NULL,
    last_error = 'claimed ' || attempts || ' times, and each time its worker stopped renewing '
                 || 'the lease (killed, out of memory or cut off from the state store); last '
                 || 'held by ' || COALESCE(worker, 'an unnamed worker')
WHERE run_id = ?1 AND status = 'running' AND lease_until_ms < {} AND attempts >= ?2
)sql",
                                                                  sql.now_ms)));
    give_up.Bind(1, run_id).Bind(2, max_attempts);
    RIVET_RETURN_IF_ERROR(give_up.Run());
  }
  // A running task without a lease was left by a process that did not use --worker (a run
  // killed before --worker joined the plan): no lease protects it, so it is taken like an
  // expired one, as --resume would take it.
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format(R"sql(
UPDATE chunk_tasks
SET status = 'running', attempts = attempts + 1, claim_token = ?2, lease_until_ms = {0} + ?3,
    worker = ?4
WHERE run_id = ?1 AND idx = (
  SELECT idx FROM chunk_tasks
  WHERE run_id = ?1
    AND (status = 'pending' OR (status = 'running' AND (lease_until_ms IS NULL OR
                                                      lease_until_ms < {0})))
  ORDER BY idx
  LIMIT 1{1})
RETURNING idx, start_key, end_key, attempts
)sql",
                                                             sql.now_ms, sql.skip_locked)));
  ChunkClaim claim;
  claim.token = NewClaimToken();
  stmt.Bind(1, run_id)
      .Bind(2, claim.token)
      .Bind(3, static_cast<int64_t>(lease.count()))
      .Bind(4, worker);
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    RIVET_RETURN_IF_ERROR(transaction.Commit());  // keeps what max_attempts failed
    return std::optional<ChunkClaim>();
  }
  claim.idx = stmt.Int(0);
  claim.start_key = stmt.Text(1);
  claim.end_key = stmt.Text(2);
  claim.attempts = stmt.Int(3);
  RIVET_RETURN_IF_ERROR(stmt.Run());
  RIVET_RETURN_IF_ERROR(TouchPlan(*db_, run_id));
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return std::optional<ChunkClaim>(std::move(claim));
}

Result<bool> StateStore::RenewChunkLease(std::string_view run_id, int64_t idx,
                                         std::string_view token, std::chrono::milliseconds lease) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format(R"sql(
UPDATE chunk_tasks SET lease_until_ms = {} + ?4
WHERE run_id = ?1 AND idx = ?2 AND claim_token = ?3 AND status = 'running'
)sql",
                                                             SqlOf(db_->dialect()).now_ms)));
  stmt.Bind(1, run_id).Bind(2, idx).Bind(3, token).Bind(4, static_cast<int64_t>(lease.count()));
  RIVET_RETURN_IF_ERROR(stmt.Run());
  return db_->Changes() == 1;
}

Result<bool> StateStore::CompleteClaimedChunk(std::string_view run_id, int64_t idx,
                                              std::string_view token, int64_t rows,
                                              const std::vector<FileRecord>& files) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  RIVET_ASSIGN_OR_RETURN(bool holds, ClaimHolds(*db_, run_id, idx, token));
  if (!holds) return false;  // rolls back: nothing written
  std::optional<std::string> names;
  for (const FileRecord& f : files) {
    RIVET_RETURN_IF_ERROR(InsertFile(*db_, f));
    names = names ? *names + "," + f.file_name : f.file_name;
  }
  RIVET_RETURN_IF_ERROR(
      UpdateTask(*db_, R"sql(
UPDATE chunk_tasks SET status = 'completed', rows = ?3, file_name = ?4, last_error = NULL,
                       lease_until_ms = NULL
WHERE run_id = ?1 AND idx = ?2
)sql",
                 run_id, idx, [&](Statement& stmt) { stmt.Bind(3, rows).BindOptional(4, names); }));
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

Result<bool> StateStore::FailClaimedChunk(std::string_view run_id, int64_t idx,
                                          std::string_view token, ChunkStatus status,
                                          std::string_view error) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  RIVET_ASSIGN_OR_RETURN(bool holds, ClaimHolds(*db_, run_id, idx, token));
  if (!holds) return false;
  // The token goes with the claim, so the failed worker can no longer renew.
  RIVET_RETURN_IF_ERROR(UpdateTask(
      *db_, R"sql(
UPDATE chunk_tasks SET status = ?3, last_error = ?4, claim_token = NULL, lease_until_ms = NULL
WHERE run_id = ?1 AND idx = ?2
)sql",
      run_id, idx, [&](Statement& stmt) { stmt.Bind(3, ToString(status)).Bind(4, error); }));
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

Result<bool> StateStore::FinishPlanIfDone(std::string_view run_id) {
  std::lock_guard lock(*mutex_);
  const DialectSql& sql = SqlOf(db_->dialect());
  RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*db_));
  // The plan's row is locked (PostgreSQL), so a second caller waits and then reads completed.
  RIVET_ASSIGN_OR_RETURN(
      auto plan, db_->Prepare(fmt::format("SELECT status FROM chunk_runs WHERE run_id = ?1{}",
                                          sql.for_update)));
  plan.Bind(1, run_id);
  RIVET_ASSIGN_OR_RETURN(bool found, plan.Step());
  if (!found || plan.Text(0) != ToString(ChunkPlanStatus::kInProgress)) return false;
  RIVET_RETURN_IF_ERROR(plan.Run());
  RIVET_ASSIGN_OR_RETURN(auto open, db_->Prepare(R"sql(
SELECT COUNT(*) FROM chunk_tasks WHERE run_id = ?1 AND status <> 'completed'
)sql"));
  open.Bind(1, run_id);
  RIVET_ASSIGN_OR_RETURN(bool counted, open.Step());
  if (!counted || open.Int(0) != 0) return false;
  RIVET_ASSIGN_OR_RETURN(auto done, db_->Prepare(R"sql(
UPDATE chunk_runs SET status = 'completed', updated_at = ?2 WHERE run_id = ?1
)sql"));
  done.Bind(1, run_id).Bind(2, Now());
  RIVET_RETURN_IF_ERROR(done.Run());
  RIVET_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

Result<int64_t> StateStore::PendingChunkCount(std::string_view run_id) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT COUNT(*) FROM chunk_tasks WHERE run_id = ?1 AND status <> 'completed'
)sql"));
  stmt.Bind(1, run_id);
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : int64_t{0};
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
