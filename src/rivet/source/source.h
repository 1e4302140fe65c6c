// The source interface: a database that streams a query's rows into columnar batches.
//
// Usage, once per export attempt:
//   1. MakeSource(config, options) builds the engine's source (callers never name it);
//   2. Connect() opens the connection and sets the session (UTC, lock timeout);
//   3. Stream(query) starts one read-only transaction, discovers the result columns and
//      starts streaming; RowStream::Next fills batches until it returns false;
//   4. destroying the stream ends the transaction; destroying the source closes the connection.
// Errors carry a classified ErrorCode (SQLSTATE / MySQL errno) so the pipeline can decide on
// retries without knowing the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::source {

struct ReadOptions {
  int64_t batch_rows = 10000;       // rows per batch (batch_size)
  int64_t batch_memory_mb = 0;      // > 0: rows per batch from the schema estimate instead
  int64_t statement_timeout_s = 0;  // 0 = none: bounds time to first row and stalls
  int64_t lock_timeout_s = 0;       // 0 = none
  // "" = none. A snapshot exported by another process (`rivet snapshot hold`, given to
  // `rivet run --snapshot`): every Stream and QueryText of the source reads it, and its loss is
  // an error, never a fallback to a snapshot of the source's own. An option rather than a
  // method because every source of a run (coordinator, workers, a reconnected worker) is made
  // from the same ReadOptions, so none can forget it; PostgreSQL only (CheckSnapshotId).
  std::string snapshot_id;
};

// The id of an exported PostgreSQL snapshot, as pg_export_snapshot() prints it
// ("00000003-0000001B-1"; "000003A1-1" before PostgreSQL 12), or kConfig saying why not. The
// id is put into SQL as a literal; checking its shape first keeps anything else out.
Status CheckSnapshotId(std::string_view id);
// kConfig unless `type` can share a snapshot across processes (PostgreSQL only): the message
// says what to do instead on MySQL. `what` names the command or flag ("--snapshot").
Status CheckSnapshotEngine(config::SourceType type, std::string_view what);

// Rows per batch for `schema`: batch_rows, or batch_memory_mb * 1 MiB / estimated row bytes
// clamped to [1000, 500000] (reference §1).
int64_t RowsPerBatch(const ReadOptions& options, const columnar::Schema& schema);

class RowStream {
 public:
  virtual ~RowStream() = default;
  virtual const columnar::SchemaPtr& schema() const = 0;
  // Clears `batch` and fills it with the next rows (at most RowsPerBatch). Returns false, with
  // an empty batch, once the result is exhausted. `batch` must have been built on schema().
  virtual Result<bool> Next(columnar::Batch& batch) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual Status Connect() = 0;
  // Streams the rows of `query` inside one read-only transaction.
  virtual Result<std::unique_ptr<RowStream>> Stream(const std::string& query) = 0;
  // Runs a small query and returns its rows as text (NULL = nullopt); for preflight and
  // MIN/MAX, never for export data.
  virtual Result<std::vector<std::vector<std::optional<std::string>>>> QueryText(
      const std::string& sql) = 0;
  // Runs `body`, whose QueryText calls then share one read-only transaction that is rolled
  // back afterwards (rivet check and doctor: EXPLAIN and MIN/MAX never change anything, and a
  // user's query calling a volatile function cannot write either). Inside a shared snapshot
  // (already read-only) `body` runs in it.
  virtual Status InReadOnlyTransaction(const std::function<Status()>& body) = 0;
  // "PostgreSQL 15.18", "MariaDB 10.11.6", ...
  virtual std::string ServerDescription() const = 0;
  // The TLS protocol and cipher the last connection negotiated, "TLSv1.3 TLS_AES_256_GCM_SHA384",
  // or "" when it is not encrypted (or Connect() has not succeeded yet). For `rivet doctor`,
  // which warns when it is empty.
  virtual std::string TlsDescription() const = 0;
  // Quotes an identifier for this engine ("col" / `col`).
  virtual std::string QuoteIdentifier(std::string_view name) const = 0;
  // A string literal holding exactly `text` for this session ('it''s' on PostgreSQL with
  // standard_conforming_strings; MySQL escapes by the session's sql_mode, so it needs
  // Connect() first). kData for text the engine cannot hold (a NUL byte on PostgreSQL).
  virtual Result<std::string> QuoteLiteral(std::string_view text) const = 0;

  // Asks the server to stop whatever statement this source is running (a Stream or a
  // QueryText). Safe to call from any thread, at any time, also when nothing runs; the
  // interrupted call then returns an error. Used on SIGINT/SIGTERM and after a write failure,
  // so that a reader blocked on the network never waits for statement_timeout_s.
  virtual void Cancel() = 0;

  // Makes every source in `workers` (connected, same engine as this one) read one snapshot,
  // coordinated by this source, which must stay alive (and connected) until the workers are
  // done. On success QueryText on this source reads the same snapshot (for MIN/MAX), and
  // each worker's later Streams read it too.
  //   PostgreSQL: this source opens a REPEATABLE READ READ ONLY transaction and exports its
  //     snapshot (pg_export_snapshot()); every worker Stream begins its own transaction with
  //     SET TRANSACTION SNAPSHOT, so a reconnected worker rejoins the same snapshot.
  //   MySQL/MariaDB: this source takes FLUSH TABLES WITH READ LOCK (bounded by
  //     lock_timeout_s), each worker and this source START TRANSACTION WITH CONSISTENT
  //     SNAPSHOT and keep that transaction across Streams, then UNLOCK TABLES. A worker whose
  //     connection is lost falls back to a transaction per Stream.
  // An error (no privilege, lock timeout) leaves every source as it was: the caller falls
  // back to one transaction per Stream and says so.
  virtual Status ShareSnapshot(std::span<Source* const> workers) = 0;
  // True while this source's Streams read the shared snapshot of ShareSnapshot (or the
  // snapshot of ReadOptions::snapshot_id).
  virtual bool InSharedSnapshot() const = 0;
  // For other processes (`rivet snapshot hold`): opens this source's snapshot transaction as
  // ShareSnapshot does and returns the id that ReadOptions::snapshot_id takes. The transaction
  // stays open until the source is destroyed or its connection lost; QueryText runs inside it
  // (a keepalive), and InSharedSnapshot() turns false once it is gone. kConfig where the
  // engine cannot export a snapshot (MySQL).
  virtual Result<std::string> HoldSnapshot() = 0;
};

Result<std::unique_ptr<Source>> MakeSource(const config::SourceConfig& config,
                                           const ReadOptions& options);

}  // namespace rivet::source
