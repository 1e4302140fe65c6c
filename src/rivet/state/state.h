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

#include <chrono>
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

class Connection;

// The newest schema version this binary creates and understands.
inline constexpr int64_t kSchemaVersion = 4;
// How long a connection waits for another process's write lock before failing.
inline constexpr int kBusyTimeoutMs = 5000;
// File name of the store inside the config's folder.
inline constexpr std::string_view kStateFileName = ".rivet_state.db";

enum class RunStatus : uint8_t { kSuccess, kFailed, kSkipped, kDegraded };
// "success" | "failed" | "skipped" | "degraded", as stored and printed.
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

enum class ChunkStatus : uint8_t { kPending, kRunning, kCompleted, kFailed };
// "pending" | "running" | "completed" | "failed", as stored and printed.
std::string_view ToString(ChunkStatus status);

// One chunk of a checkpointed plan: a key window [start_key, end_key] of the chunk column, or
// the rows whose chunk column is NULL (start_key = end_key = "NULL").
struct ChunkTask {
  int64_t idx = 0;  // the file's "_chunk{idx}"
  std::string start_key;
  std::string end_key;
  ChunkStatus status = ChunkStatus::kPending;
  int64_t attempts = 0;                     // tries started, over every run of the plan
  int64_t rows = 0;                         // rows delivered by the completed try
  std::optional<std::string> file_name{};   // completed: the file names, joined with ","
  std::optional<std::string> last_error{};  // the last failed try's message, free of secrets

  bool operator==(const ChunkTask&) const = default;
};

enum class ChunkPlanStatus : uint8_t { kInProgress, kCompleted, kFailed };
// "in_progress" | "completed" | "failed", as stored and printed.
std::string_view ToString(ChunkPlanStatus status);

// A checkpointed chunk plan (chunked mode with chunk_checkpoint: true).
struct ChunkPlan {
  std::string run_id;  // the run that created it; a resumed run reuses it
  std::string export_name;
  std::string plan_hash;     // fingerprint of query, chunk_column and chunk_size (plan/plan.h)
  std::string query_hash;    // fingerprint of the query alone, to say what changed
  std::string chunk_column;  // as configured
  int64_t chunk_size = 0;
  ChunkPlanStatus status = ChunkPlanStatus::kInProgress;
  std::string created_at;        // ISO-8601 UTC
  std::string updated_at;        // ISO-8601 UTC
  std::vector<ChunkTask> tasks;  // by idx

  bool operator==(const ChunkPlan&) const = default;
};

// A task claimed by one worker of a shared plan: it holds the task until lease_until, and only
// with `token` may it renew, complete or fail it (fencing: a worker whose lease ran out and was
// taken over can no longer write).
struct ChunkClaim {
  int64_t idx = 0;
  std::string start_key;
  std::string end_key;
  std::string token;     // 32 hex digits of 16 random bytes
  int64_t attempts = 0;  // tries started, this one included

  bool operator==(const ChunkClaim&) const = default;
};

// What CreateOrJoinChunkPlan found: the plan it created, or the export's in_progress plan that
// another process created first (the caller compares plan_hash).
struct JoinedPlan {
  ChunkPlan plan;
  bool created = false;
};

// Where the store lives. An empty postgres_url means SQLite at sqlite_path.
struct StateLocation {
  std::string sqlite_path;   // `<config dir>/.rivet_state.db`
  std::string postgres_url;  // a secret: never logged, printed or stored
};

// "host:port/db" of a PostgreSQL URL, without user or password, for messages.
std::string DescribePostgresUrl(const std::string& url);

// Rows copied by StateStore::CopyInto, per table.
struct CopiedState {
  int64_t runs = 0;
  int64_t files = 0;
  int64_t cursors = 0;
  int64_t schemas = 0;  // schema history entries
  int64_t plans = 0;    // chunk checkpoint plans
  int64_t chunks = 0;   // their tasks
};

class StateStore;
// Opens (and migrates) the store at `location`: the one way callers reach a backend.
[[nodiscard]] Result<StateStore> OpenStateStore(const StateLocation& location);

class StateStore {
 public:
  // Opens or creates the SQLite store at `path` (OpenStateStore with only sqlite_path).
  [[nodiscard]] static Result<StateStore> Open(const std::string& path);
  // Migrates the store behind `connection` and takes it over (OpenStateStore's last step).
  [[nodiscard]] static Result<StateStore> Over(std::unique_ptr<Connection> connection);

  StateStore(StateStore&&) noexcept;
  StateStore& operator=(StateStore&&) noexcept;
  ~StateStore();

  // rivet state migrate: copies every row of this store into `target` in one transaction on
  // the target, keeping recording order; refused (nothing written) when the target already
  // holds runs, files, cursors or plans.
  [[nodiscard]] Result<CopiedState> CopyInto(StateStore& target);

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

  // --- Chunk checkpoints. Each call is one short transaction, so worker threads and other
  // processes interleave safely (WAL, busy timeout). ---
  // Writes the plan and every task in one transaction (before the first chunk runs).
  [[nodiscard]] Status CreateChunkPlan(const ChunkPlan& plan);
  // The export's newest plan whose status is in_progress, with its tasks.
  [[nodiscard]] Result<std::optional<ChunkPlan>> InProgressChunkPlan(std::string_view export_name);
  // The export's newest plan whatever its status (rivet state chunks).
  [[nodiscard]] Result<std::optional<ChunkPlan>> LatestChunkPlan(std::string_view export_name);
  // Resume: tasks left `running` (their process died) or `failed` become `pending`; their
  // attempts are kept (chunk_max_attempts bounds the tries of one run). Returns how many
  // tasks changed.
  [[nodiscard]] Result<int64_t> ResetUnfinishedChunks(std::string_view run_id);
  // A try of the task starts: status running, attempts + 1.
  [[nodiscard]] Status StartChunk(std::string_view run_id, int64_t idx);
  // The task's files are durable: status completed, rows, file names, and every file's
  // manifest row, in one transaction (reference §4: the chunk advances with its files).
  [[nodiscard]] Status CompleteChunk(std::string_view run_id, int64_t idx, int64_t rows,
                                     const std::vector<FileRecord>& files);
  // A try failed: status pending (it may be tried again) or failed (no tries left), with the
  // error message.
  [[nodiscard]] Status FailChunk(std::string_view run_id, int64_t idx, ChunkStatus status,
                                 std::string_view error);
  // Marks the whole plan completed or failed (or back to in_progress).
  [[nodiscard]] Status SetChunkPlanStatus(std::string_view run_id, ChunkPlanStatus status);

  // --- Shared chunk plans: several processes work on one plan through leases. ---
  // One transaction serialised per export: returns the export's in_progress plan when there is
  // one (created = false), else writes `plan` with its tasks (created = true).
  [[nodiscard]] Result<JoinedPlan> CreateOrJoinChunkPlan(const ChunkPlan& plan);
  // Claims the lowest idx task that is pending, or running with an expired lease (its worker
  // died) or with none (left by a process without --worker): running, attempts + 1, a fresh
  // token, lease until now + lease by the store's clock, worker. nullopt when nothing is
  // claimable. First, a task whose lease expired after max_attempts claims (0: unbounded) is
  // failed for good with a message saying so.
  [[nodiscard]] Result<std::optional<ChunkClaim>> ClaimChunk(std::string_view run_id,
                                                             std::chrono::milliseconds lease,
                                                             std::string_view worker,
                                                             int64_t max_attempts);
  // Extends the lease to now + lease while the claim holds. False: the task was taken over and
  // the worker must abandon it.
  [[nodiscard]] Result<bool> RenewChunkLease(std::string_view run_id, int64_t idx,
                                             std::string_view token,
                                             std::chrono::milliseconds lease);
  // CompleteChunk fenced by the claim, in one transaction: false (nothing written, no manifest
  // row) when the token no longer holds.
  [[nodiscard]] Result<bool> CompleteClaimedChunk(std::string_view run_id, int64_t idx,
                                                  std::string_view token, int64_t rows,
                                                  const std::vector<FileRecord>& files);
  // FailChunk fenced by the claim (status pending or failed); false when fenced out.
  [[nodiscard]] Result<bool> FailClaimedChunk(std::string_view run_id, int64_t idx,
                                              std::string_view token, ChunkStatus status,
                                              std::string_view error);
  // When every task is completed and the plan is still in_progress, marks it completed and
  // returns true: exactly one caller gets true and ends the run.
  [[nodiscard]] Result<bool> FinishPlanIfDone(std::string_view run_id);
  // Tasks of the plan not completed yet.
  [[nodiscard]] Result<int64_t> PendingChunkCount(std::string_view run_id);

  // The columns recorded by the export's most recent RecordSchema, nullopt when never recorded.
  [[nodiscard]] Result<std::optional<std::vector<SchemaColumn>>> LastSchema(
      std::string_view export_name);
  // Appends the export's columns to the schema history (stored as JSON [{name, type}]).
  [[nodiscard]] Status RecordSchema(std::string_view export_name, std::string_view run_id,
                                    const std::vector<SchemaColumn>& columns);

 private:
  explicit StateStore(std::unique_ptr<Connection> db);

  std::unique_ptr<Connection> db_;
  std::unique_ptr<std::mutex> mutex_;  // behind a pointer so the store stays movable
};

}  // namespace rivet::state
