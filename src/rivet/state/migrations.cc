#include "rivet/state/migrations.h"

#include <array>
#include <chrono>

#include "rivet/common/clock.h"
#include "rivet/state/state.h"

namespace rivet::state {

namespace {

// Version 1: everything the foundation needs. Times are ISO-8601 UTC text; booleans that may be
// unknown are NULL | 'pass' | 'FAIL' as the run summary prints them.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE runs (
  run_id          TEXT PRIMARY KEY,
  export_name     TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('success', 'failed', 'skipped')),
  started_at      TEXT NOT NULL,
  finished_at     TEXT NOT NULL,
  rows            INTEGER NOT NULL DEFAULT 0,
  files           INTEGER NOT NULL DEFAULT 0,
  bytes           INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER NOT NULL DEFAULT 0,
  peak_rss_bytes  INTEGER NOT NULL DEFAULT 0,
  retries         INTEGER NOT NULL DEFAULT 0,
  profile         TEXT NOT NULL,
  batch_size      INTEGER NOT NULL DEFAULT 0,
  validated       TEXT CHECK (validated IN ('pass', 'FAIL')),
  schema_changed  INTEGER NOT NULL DEFAULT 0 CHECK (schema_changed IN (0, 1)),
  quality         TEXT CHECK (quality IN ('pass', 'FAIL')),
  error_message   TEXT,
  error_code      TEXT
);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_export ON runs (export_name, started_at);

-- No foreign key to runs: a file enters the manifest as soon as it is durable, before its run
-- ends and is recorded (reference §4).
CREATE TABLE files (
  id           INTEGER PRIMARY KEY,
  run_id       TEXT NOT NULL,
  export_name  TEXT NOT NULL,
  file_name    TEXT NOT NULL,
  location     TEXT NOT NULL,
  rows         INTEGER NOT NULL DEFAULT 0,
  bytes        INTEGER NOT NULL DEFAULT 0,
  format       TEXT NOT NULL,
  compression  TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  part_index   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_by_created ON files (created_at);
CREATE INDEX files_by_export ON files (export_name, created_at);
CREATE INDEX files_by_run ON files (run_id);

CREATE TABLE cursors (
  export_name    TEXT PRIMARY KEY,
  last_cursor    TEXT NOT NULL,
  cursor_column  TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

CREATE TABLE schema_history (
  id           INTEGER PRIMARY KEY,
  export_name  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  recorded_at  TEXT NOT NULL,
  columns      TEXT NOT NULL  -- JSON [{"name": ..., "type": ...}]
);
CREATE INDEX schema_history_by_export ON schema_history (export_name, id);

-- Chunk checkpoint plans (chunked mode with chunk_checkpoint: true).
CREATE TABLE chunk_runs (
  run_id       TEXT PRIMARY KEY,
  export_name  TEXT NOT NULL,
  plan_hash    TEXT NOT NULL,  -- fingerprint of query, chunk_column and chunk_size
  status       TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX chunk_runs_by_export ON chunk_runs (export_name);
CREATE TABLE chunk_tasks (
  run_id      TEXT NOT NULL REFERENCES chunk_runs (run_id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,
  start_key   TEXT NOT NULL,
  end_key     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  rows        INTEGER NOT NULL DEFAULT 0,
  file_name   TEXT,
  last_error  TEXT,
  PRIMARY KEY (run_id, idx)
);
)sql";

// Version 2: the modes. A cursor keeps its value's kind so it is quoted back exactly; a chunk
// plan keeps what its fingerprint covers, so a refused --resume can say what changed.
constexpr const char* kVersion2 = R"sql(
ALTER TABLE cursors ADD COLUMN cursor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE chunk_runs ADD COLUMN query_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE chunk_runs ADD COLUMN chunk_column TEXT NOT NULL DEFAULT '';
ALTER TABLE chunk_runs ADD COLUMN chunk_size INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chunk_runs_by_export_created ON chunk_runs (export_name, created_at);
)sql";

// Version 3: a run may be 'degraded' (delivered, but with retries or a snapshot fallback).
// SQLite cannot change a CHECK constraint in place, so the runs table is rebuilt with the same
// columns in the same order and its rows copied over; nothing references it.
constexpr const char* kVersion3 = R"sql(
CREATE TABLE runs_v3 (
  run_id          TEXT PRIMARY KEY,
  export_name     TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('success', 'failed', 'skipped', 'degraded')),
  started_at      TEXT NOT NULL,
  finished_at     TEXT NOT NULL,
  rows            INTEGER NOT NULL DEFAULT 0,
  files           INTEGER NOT NULL DEFAULT 0,
  bytes           INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER NOT NULL DEFAULT 0,
  peak_rss_bytes  INTEGER NOT NULL DEFAULT 0,
  retries         INTEGER NOT NULL DEFAULT 0,
  profile         TEXT NOT NULL,
  batch_size      INTEGER NOT NULL DEFAULT 0,
  validated       TEXT CHECK (validated IN ('pass', 'FAIL')),
  schema_changed  INTEGER NOT NULL DEFAULT 0 CHECK (schema_changed IN (0, 1)),
  quality         TEXT CHECK (quality IN ('pass', 'FAIL')),
  error_message   TEXT,
  error_code      TEXT
);
INSERT INTO runs_v3 SELECT * FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_export ON runs (export_name, started_at);
)sql";

// Version 4: shared chunk plans with leases. A claimed task carries the token of the claim
// (fencing: only its holder may complete or fail it), the end of its lease in epoch
// milliseconds by the store's clock, and the worker that holds it.
constexpr const char* kVersion4 = R"sql(
ALTER TABLE chunk_tasks ADD COLUMN claim_token TEXT;
ALTER TABLE chunk_tasks ADD COLUMN lease_until_ms INTEGER;
ALTER TABLE chunk_tasks ADD COLUMN worker TEXT;
)sql";

// The same versions in PostgreSQL's dialect. Ids and recording order come from BIGSERIAL
// columns (SQLite's rowid); integers are BIGINT. Tables live in the connection's current
// schema (pick one with options=-csearch_path=... in the URL).
constexpr const char* kPgVersion1 = R"sql(
CREATE TABLE runs (
  seq             BIGSERIAL NOT NULL UNIQUE,
  run_id          TEXT PRIMARY KEY,
  export_name     TEXT NOT NULL,
  status          TEXT NOT NULL CONSTRAINT runs_status_check
                    CHECK (status IN ('success', 'failed', 'skipped')),
  started_at      TEXT NOT NULL,
  finished_at     TEXT NOT NULL,
  rows            BIGINT NOT NULL DEFAULT 0,
  files           BIGINT NOT NULL DEFAULT 0,
  bytes           BIGINT NOT NULL DEFAULT 0,
  duration_ms     BIGINT NOT NULL DEFAULT 0,
  peak_rss_bytes  BIGINT NOT NULL DEFAULT 0,
  retries         BIGINT NOT NULL DEFAULT 0,
  profile         TEXT NOT NULL,
  batch_size      BIGINT NOT NULL DEFAULT 0,
  validated       TEXT CHECK (validated IN ('pass', 'FAIL')),
  schema_changed  BIGINT NOT NULL DEFAULT 0 CHECK (schema_changed IN (0, 1)),
  quality         TEXT CHECK (quality IN ('pass', 'FAIL')),
  error_message   TEXT,
  error_code      TEXT
);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_export ON runs (export_name, started_at);

CREATE TABLE files (
  id           BIGSERIAL PRIMARY KEY,
  run_id       TEXT NOT NULL,
  export_name  TEXT NOT NULL,
  file_name    TEXT NOT NULL,
  location     TEXT NOT NULL,
  rows         BIGINT NOT NULL DEFAULT 0,
  bytes        BIGINT NOT NULL DEFAULT 0,
  format       TEXT NOT NULL,
  compression  TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  part_index   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX files_by_created ON files (created_at);
CREATE INDEX files_by_export ON files (export_name, created_at);
CREATE INDEX files_by_run ON files (run_id);

CREATE TABLE cursors (
  export_name    TEXT PRIMARY KEY,
  last_cursor    TEXT NOT NULL,
  cursor_column  TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

CREATE TABLE schema_history (
  id           BIGSERIAL PRIMARY KEY,
  export_name  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  recorded_at  TEXT NOT NULL,
  columns      TEXT NOT NULL
);
CREATE INDEX schema_history_by_export ON schema_history (export_name, id);

CREATE TABLE chunk_runs (
  seq          BIGSERIAL NOT NULL UNIQUE,
  run_id       TEXT PRIMARY KEY,
  export_name  TEXT NOT NULL,
  plan_hash    TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX chunk_runs_by_export ON chunk_runs (export_name);
CREATE TABLE chunk_tasks (
  run_id      TEXT NOT NULL REFERENCES chunk_runs (run_id) ON DELETE CASCADE,
  idx         BIGINT NOT NULL,
  start_key   TEXT NOT NULL,
  end_key     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  attempts    BIGINT NOT NULL DEFAULT 0,
  rows        BIGINT NOT NULL DEFAULT 0,
  file_name   TEXT,
  last_error  TEXT,
  PRIMARY KEY (run_id, idx)
);
)sql";

constexpr const char* kPgVersion2 = R"sql(
ALTER TABLE cursors ADD COLUMN cursor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE chunk_runs ADD COLUMN query_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE chunk_runs ADD COLUMN chunk_column TEXT NOT NULL DEFAULT '';
ALTER TABLE chunk_runs ADD COLUMN chunk_size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX chunk_runs_by_export_created ON chunk_runs (export_name, created_at);
)sql";

// PostgreSQL changes a CHECK in place: no rebuild.
constexpr const char* kPgVersion3 = R"sql(
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
  CHECK (status IN ('success', 'failed', 'skipped', 'degraded'));
)sql";

constexpr const char* kPgVersion4 = R"sql(
ALTER TABLE chunk_tasks ADD COLUMN claim_token TEXT;
ALTER TABLE chunk_tasks ADD COLUMN lease_until_ms BIGINT;
ALTER TABLE chunk_tasks ADD COLUMN worker TEXT;
)sql";

constexpr std::array<Migration, 4> kMigrations = {{
    {1, kVersion1, kPgVersion1},
    {2, kVersion2, kPgVersion2},
    {3, kVersion3, kPgVersion3},
    {4, kVersion4, kPgVersion4},
}};

static_assert(kMigrations.back().version == kSchemaVersion,
              "kSchemaVersion must name the newest migration");

Result<int64_t> RecordedVersion(Connection& db) {
  RIVET_ASSIGN_OR_RETURN(auto stmt,
                         db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  RIVET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return int64_t{0};
  return stmt.Int(0);
}

Status RefuseNewer(int64_t version, const std::string& path) {
  // path: the store's description, never a URL with its password.
  return Error(ErrorCode::kConfig,
               "state database {} has schema version {}, newer than this Rivet supports ({}); "
               "upgrade Rivet to use it",
               path, version, kSchemaVersion);
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Status ApplyMigrations(Connection& db) {
  const std::string& path = db.description();
  {
    // Under the lock too: two PostgreSQL sessions creating the same table at once collide.
    RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(db));
    RIVET_RETURN_IF_ERROR(db.LockKey(kMigrationLockKey));
    RIVET_RETURN_IF_ERROR(
        db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    RIVET_RETURN_IF_ERROR(transaction.Commit());
  }
  RIVET_ASSIGN_OR_RETURN(int64_t version, RecordedVersion(db));
  if (version > kSchemaVersion) return RefuseNewer(version, path);

  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    RIVET_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(db));
    RIVET_RETURN_IF_ERROR(db.LockKey(kMigrationLockKey));
    // Another process may have migrated while this one waited for the lock.
    RIVET_ASSIGN_OR_RETURN(int64_t current, RecordedVersion(db));
    if (current > kSchemaVersion) return RefuseNewer(current, path);
    if (current >= migration.version) {
      version = current;
      continue;  // the transaction rolls back: nothing was written
    }
    const char* sql = db.dialect() == Dialect::kPostgres ? migration.postgres : migration.sql;
    RIVET_RETURN_IF_ERROR(db.Exec(sql).WithContext(fmt::format("migration {}", migration.version)));
    RIVET_ASSIGN_OR_RETURN(
        auto insert,
        db.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)"));
    insert.Bind(1, migration.version).Bind(2, FormatIsoSeconds(std::chrono::system_clock::now()));
    RIVET_RETURN_IF_ERROR(insert.Run());
    RIVET_RETURN_IF_ERROR(transaction.Commit());
    version = migration.version;
  }
  return Status::Ok();
}

}  // namespace rivet::state
