// The state store: `.rivet_state.db` (SQLite) next to the config file (reference §2).
//
// It keeps what must outlive a process: run metrics (`rivet metrics`), the file manifest
// (`rivet state files`), incremental cursors (`rivet state show|reset`), each export's last
// column schema (schema change detection, guide §22) and chunk checkpoint plans.
//
// Opening the store:
//   1. opens or creates the file; sets WAL (readers never block the writer), a busy timeout (a
//      second process waits for the write lock instead of failing) and foreign keys;
//   2. refuses a database whose schema is newer than this binary knows;
//   3. applies each missing migration in its own transaction and records it in
//      `schema_migrations(version, applied_at)`; re-opening an up-to-date file changes nothing.
//
// The store writes exactly what it is given: the pipeline redacts secrets before anything reaches
// it (reference §4). Times are ISO-8601 UTC text as rivet::FormatIsoSeconds prints them
// ("2026-03-29T16:00:01+00:00"), so they read well in the tables and sort as text.
// A StateStore may be shared between threads: each call holds the connection's mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rivet/common/error.h"
#include "rivet/common/result.h"
#include "rivet/state/schema_diff.h"

namespace rivet::state {

namespace sqlite {
class Database;
}

// The newest schema version this binary creates and understands.
inline constexpr int64_t kSchemaVersion = 1;
// How long a connection waits for another process's write lock before failing.
inline constexpr int kBusyTimeoutMs = 5000;
// File name of the store inside the config's folder.
inline constexpr std::string_view kStateFileName = ".rivet_state.db";

enum class RunStatus : uint8_t { kSuccess, kFailed, kSkipped };
// "success" | "failed" | "skipped", as stored and printed.
std::string_view ToString(RunStatus status);

// One export run: a row of `rivet metrics` (reference §3 run summary).
struct RunRecord {
  std::string run_id;  // "{export}_{YYYYMMDDTHHMMSS.mmm}", unique
  std::string export_name;
  RunStatus status = RunStatus::kSuccess;
  std::string started_at;   // ISO-8601 UTC
  std::string finished_at;  // ISO-8601 UTC
  int64_t rows = 0;
  int64_t files = 0;
  int64_t bytes = 0;  // total bytes written to the destination
  int64_t duration_ms = 0;
  int64_t peak_rss_bytes = 0;     // highest resident set size sampled during the run
  int64_t retries = 0;            // retries after the first attempt
  std::string profile;            // "fast" | "balanced" | "safe" | "balanced (default)"
  int64_t batch_size = 0;         // rows per batch actually used
  std::optional<bool> validated;  // nullopt: run without --validate; stored NULL|pass|FAIL
  bool schema_changed = false;
  std::optional<bool> quality_passed;        // nullopt: no quality checks configured
  std::optional<std::string> error_message;  // failed runs only, already free of secrets
  std::optional<ErrorCode> error_code;       // stored by ErrorCodeName

  bool operator==(const RunRecord&) const = default;
};

// One file delivered to a destination (the manifest of `rivet state files`).
struct FileRecord {
  std::string run_id;
  std::string export_name;
  std::string file_name;  // "orders_20260329_160000.parquet"
  std::string location;   // where it was written: a local path, s3://bucket/key, gs://..., "-"
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string format;       // "parquet" | "csv"
  std::string compression;  // "zstd" | "snappy" | "gzip" | "lz4" | "none"
  std::string created_at;   // ISO-8601 UTC
  int64_t part_index = 0;   // 0-based index of a size-split part or chunk within its run

  bool operator==(const FileRecord&) const = default;
};

// The incremental cursor of one export.
struct CursorState {
  std::string export_name;
  std::string cursor_column;
  std::string last_cursor;  // the last non-NULL cursor value exported, as text
  std::string updated_at;   // ISO-8601 UTC of the run that advanced it
  // The value's kind, so it is quoted back exactly: "integer" | "decimal" | "date" |
  // "timestamp" | "timestamptz" | "text" (plan/cursor.h). Empty for a cursor stored before
  // schema version 2 (read back as "text").
  std::string cursor_type{};

  bool operator==(const CursorState&) const = default;
};

class StateStore {
 public:
  // Opens or creates the store at `path` (callers pass `<config dir>/.rivet_state.db`).
  [[nodiscard]] static Result<StateStore> Open(const std::string& path);

  StateStore(StateStore&&) noexcept;
  StateStore& operator=(StateStore&&) noexcept;
  ~StateStore();

  // The highest migration applied to the file.
  [[nodiscard]] Result<int64_t> SchemaVersion();

  // Inserts the run, or replaces a run recorded earlier under the same run_id (a resumed run).
  [[nodiscard]] Status RecordRun(const RunRecord& run);
  // Newest first (by started_at, then by recording order), at most `limit`, optionally one export.
  [[nodiscard]] Result<std::vector<RunRecord>> ListRuns(
      const std::optional<std::string>& export_name, int64_t limit);

  [[nodiscard]] Status RecordFile(const FileRecord& file);
  // Newest first (by created_at, then by recording order), at most `limit`.
  [[nodiscard]] Result<std::vector<FileRecord>> ListFiles(
      const std::optional<std::string>& export_name, int64_t limit);

  [[nodiscard]] Result<std::optional<CursorState>> GetCursor(std::string_view export_name);
  // Inserts or replaces the cursor of cursor.export_name.
  [[nodiscard]] Status SetCursor(const CursorState& cursor);
  // Every stored cursor, by export name.
  [[nodiscard]] Result<std::vector<CursorState>> ListCursors();

  // Forgets an export's cursor and chunk checkpoint plans, so its next run starts from the
  // beginning. True when there was anything to forget.
  [[nodiscard]] Result<bool> ResetExport(std::string_view export_name);
  // Forgets only the chunk checkpoint plans of an export. True when a plan existed.
  [[nodiscard]] Result<bool> ResetChunks(std::string_view export_name);
  // True when a chunk checkpoint plan is stored for the export.
  [[nodiscard]] Result<bool> HasChunkPlan(std::string_view export_name);

  // The columns recorded by the export's most recent RecordSchema, nullopt when never recorded.
  [[nodiscard]] Result<std::optional<std::vector<SchemaColumn>>> LastSchema(
      std::string_view export_name);
  // Appends the export's columns to the schema history (stored as JSON [{name, type}]).
  [[nodiscard]] Status RecordSchema(std::string_view export_name, std::string_view run_id,
                                    const std::vector<SchemaColumn>& columns);

 private:
  explicit StateStore(std::unique_ptr<sqlite::Database> db);

  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<std::mutex> mutex_;  // behind a pointer so the store stays movable
};

}  // namespace rivet::state
