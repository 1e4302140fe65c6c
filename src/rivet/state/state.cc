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

Result<RunStatus> ParseRunStatus(const std::string& text) {
  for (RunStatus status : {RunStatus::kSuccess, RunStatus::kFailed, RunStatus::kSkipped}) {
    if (text == ToString(status)) return status;
  }
  return Error(ErrorCode::kCorrupt, "state database: unknown run status '{}'", text);
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

}  // namespace

std::string_view ToString(RunStatus status) {
  switch (status) {
    case RunStatus::kSuccess:
      return "success";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kSkipped:
      return "skipped";
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
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
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
SELECT export_name, cursor_column, last_cursor, updated_at FROM cursors WHERE export_name = ?1
)sql"));
  stmt.Bind(1, export_name);
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<CursorState>();
  return std::optional<CursorState>(
      CursorState{stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3)});
}

Status StateStore::SetCursor(const CursorState& cursor) {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
INSERT INTO cursors (export_name, cursor_column, last_cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (export_name) DO UPDATE SET
  cursor_column = excluded.cursor_column,
  last_cursor = excluded.last_cursor,
  updated_at = excluded.updated_at
)sql"));
  stmt.Bind(1, cursor.export_name)
      .Bind(2, cursor.cursor_column)
      .Bind(3, cursor.last_cursor)
      .Bind(4, cursor.updated_at);
  return stmt.Run();
}

Result<std::vector<CursorState>> StateStore::ListCursors() {
  std::lock_guard lock(*mutex_);
  RIVET_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
SELECT export_name, cursor_column, last_cursor, updated_at FROM cursors ORDER BY export_name
)sql"));
  std::vector<CursorState> cursors;
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    cursors.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3)});
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
  stmt.Bind(1, export_name)
      .Bind(2, run_id)
      .Bind(3, FormatIsoSeconds(std::chrono::system_clock::now()))
      .Bind(4, ColumnsToJson(columns));
  return stmt.Run();
}

}  // namespace rivet::state
