#include "rivet/source/postgres/postgres_source.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rivet/common/secrets.h"
#include "rivet/common/url.h"
#include "rivet/config/tls.h"
#include "rivet/source/postgres/copy_parser.h"
#include "rivet/source/postgres/pg_types.h"
#include "rivet/source/postgres/sqlstate.h"

namespace rivet::source::postgres {

namespace {

using Clock = std::chrono::steady_clock;

// RAII for libpq handles (design.md §6).
struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
struct CancelDeleter {
  void operator()(PGcancel* c) const { PQfreeCancel(c); }
};
using CancelPtr = std::unique_ptr<PGcancel, CancelDeleter>;
struct FreememDeleter {
  void operator()(char* p) const { PQfreemem(p); }
};
using CopyBuffer = std::unique_ptr<char, FreememDeleter>;

// A batch stops growing past this size even below its row count, so very wide rows keep
// memory bounded.
constexpr size_t kMaxBatchBytes = size_t{256} << 20;
// Byte-buffer reservation of a variable-length column per batch row, and its cap per column
// (see PostgresRowStream::ReserveBytes).
constexpr size_t kReserveBytesPerRow = 256;
constexpr size_t kMaxReserveBytes = size_t{64} << 20;
// How often (in received bytes) Next() measures the batch against kMaxBatchBytes.
constexpr size_t kByteCheckInterval = size_t{1} << 20;
// Bound on waiting for the server to acknowledge a cancel and end an abandoned COPY; past it
// the connection is dropped instead.
constexpr auto kAbortWait = std::chrono::seconds(30);
constexpr int kConnectTimeoutS = 30;
// Rounds of pg_type lookups (domain -> base -> array element ...) before giving up.
constexpr int kMaxCatalogRounds = 8;
constexpr const char* kBeginReadOnly =
    "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY";
// Savepoints inside a coordinator's snapshot transaction: a failed statement rolls back to
// them instead of aborting the transaction, so the snapshot outlives errors.
constexpr const char* kStreamSavepoint = "rivet_stream";
constexpr const char* kQuerySavepoint = "rivet_query";
// idle_in_transaction_session_timeout exists from PostgreSQL 9.6.
constexpr int kIdleInTransactionTimeoutVersion = 90600;

std::string TrimMessage(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// Everything in a connection URL that must never reach a message: the URL itself and its
// password, raw and decoded (found by hand too, since libpq may refuse to parse the URL).
std::vector<std::string> UrlSecrets(const std::string& url) {
  std::vector<std::string> secrets = UrlPasswords(url);
  secrets.push_back(url);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (error) PQfreemem(error);
  if (options) {
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (std::strcmp(o->keyword, "password") == 0 && o->val) secrets.emplace_back(o->val);
    }
    PQconninfoFree(options);
  }
  return secrets;
}

// The TLS parameters the URL gives itself (libpq reads them from the URL too; Rivet needs them
// to combine with source.tls). A URL libpq cannot parse has none here: Connect reports it.
config::UrlTls UrlTlsParams(const std::string& url) {
  config::UrlTls tls = config::PostgresUrlTlsNames();
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (error) PQfreemem(error);
  if (!options) return tls;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    for (config::UrlTlsParam* param : {&tls.mode, &tls.ca_file, &tls.cert_file, &tls.key_file}) {
      if (param->name == o->keyword) param->value = o->val;
    }
  }
  PQconninfoFree(options);
  // libpq's "allow" (plain first, TLS if refused) has no Rivet mode.
  if (tls.mode.value) tls.parsed_mode = config::ParseTlsMode(*tls.mode.value);
  return tls;
}

// "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" when the connection is not encrypted.
std::string DescribeTls(PGconn* conn) {
  if (!PQsslInUse(conn)) return "";
  const char* protocol = PQsslAttribute(conn, "protocol");
  const char* cipher = PQsslAttribute(conn, "cipher");
  return fmt::format("{} {}", protocol ? protocol : "TLS", cipher ? cipher : "");
}

bool LooksLikeLostConnection(std::string_view message) {
  for (std::string_view needle :
       {"server closed the connection", "connection to server was lost", "could not send data",
        "could not receive data", "no connection to the server", "SSL SYSCALL error",
        "terminating connection", "connection timed out", "Connection reset"}) {
    if (message.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

void ForwardNotice(void*, const PGresult* result) {
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  std::string text = TrimMessage(PQresultErrorMessage(result));
  if (severity && std::strcmp(severity, "WARNING") == 0) {
    spdlog::warn("PostgreSQL: {}", text);
  } else {
    spdlog::debug("PostgreSQL: {}", text);
  }
}

std::string TimeoutMessage(int64_t seconds) {
  return fmt::format(
      "no rows from PostgreSQL for {}s (statement_timeout_s); the query was cancelled", seconds);
}

class PostgresSource;

class PostgresRowStream final : public RowStream {
 public:
  // `first_row_deadline`: when the first row must have arrived (statement_timeout_s counted
  // from the start of the COPY).
  PostgresRowStream(PostgresSource* source, columnar::SchemaPtr schema,
                    std::vector<ColumnDecoder> decoders, int64_t rows_per_batch,
                    std::optional<Clock::time_point> first_row_deadline);
  ~PostgresRowStream() override;

  const columnar::SchemaPtr& schema() const override { return schema_; }
  Result<bool> Next(columnar::Batch& batch) override;

 private:
  struct Chunk {
    CopyBuffer data;
    size_t size = 0;
    bool end = false;
  };
  Result<Chunk> ReadChunk();
  void ReserveBytes(columnar::Batch& batch) const;
  Status FinishCopy();
  Status Fail(Status status);

  PostgresSource* source_;
  columnar::SchemaPtr schema_;
  CopyParser parser_;
  size_t rows_per_batch_;
  std::optional<Clock::time_point> first_row_deadline_;
  bool copy_active_ = true;
  bool done_ = false;
  Status failure_;
};

class PostgresSource final : public Source {
 public:
  // `tls`: source.tls combined with the URL's own parameters (config/tls.h CombineTls).
  PostgresSource(config::SourceConfig config, config::TlsConfig tls, ReadOptions options)
      : config_(std::move(config)),
        tls_(std::move(tls)),
        options_(options),
        snapshot_id_(options_.snapshot_id) {}

  Status Connect() override;
  Result<std::unique_ptr<RowStream>> Stream(const std::string& query) override;
  Result<std::vector<std::vector<std::optional<std::string>>>> QueryText(
      const std::string& sql) override;
  std::string ServerDescription() const override;
  std::string TlsDescription() const override { return tls_description_; }
  Status InReadOnlyTransaction(const std::function<Status()>& body) override;
  std::string QuoteIdentifier(std::string_view name) const override {
    return QuotePgIdentifier(name);
  }
  Result<std::string> QuoteLiteral(std::string_view text) const override {
    // The session runs with standard_conforming_strings = on (Connect).
    return QuotePgLiteral(text);
  }
  void Cancel() override;
  Status ShareSnapshot(std::span<Source* const> workers) override;
  bool InSharedSnapshot() const override {
    return !exported_snapshot_.empty() || !snapshot_id_.empty();
  }
  Result<std::string> HoldSnapshot() override;

  // --- for PostgresRowStream ---
  PGconn* conn() const { return conn_.get(); }
  const ReadOptions& options() const { return options_; }
  // An error from the connection itself (no result): lost connection -> kNetwork.
  Status ConnectionError(std::string_view what) const;
  // The error carried by `result` (or the connection's when null), classified by SQLSTATE.
  Status ResultError(const PGresult* result, std::string_view what) const;
  Result<ResultPtr> Exec(const std::string& sql, std::string_view what);
  // Waits until the socket is readable or `deadline` passes (nullopt = no deadline).
  // Returns false on expiry.
  Result<bool> WaitReadable(std::optional<Clock::time_point> deadline) const;
  // Asks the server to cancel the running statement (best effort), without marking the
  // source cancelled: the stream's own way to end a COPY it abandons.
  void SendCancel();
  // True once Cancel() was called during the current Stream or QueryText.
  bool cancel_requested() const { return cancel_requested_.load(); }
  // The error a call interrupted by Cancel() returns when the server reported none.
  static Status CancelledError();
  // Ends an abandoned COPY: cancel, drain what is left, read the final result. Drops the
  // connection if the server does not answer within kAbortWait.
  void AbortCopy();
  // Ends the stream's transaction: a rollback, or inside the coordinator's snapshot
  // transaction a rollback to the stream's savepoint (or drops a connection that cannot).
  void EndTransaction();
  // Closes the connection; a coordinator's snapshot transaction ends with it.
  void Disconnect();

 private:
  // Ready for the next statement: connected and idle, or in its own snapshot transaction when
  // this source coordinates a shared snapshot. Reconnects otherwise.
  Status EnsureReady();
  Result<PGresult*> WaitResult(std::optional<Clock::time_point> deadline, bool* timed_out);
  // Starts a stream's transaction (see Stream in postgres_source.h and ShareSnapshot).
  Status BeginStreamTransaction();
  // Opens this source's REPEATABLE READ READ ONLY transaction and exports its snapshot.
  Status ExportSnapshot();
  // SET TRANSACTION SNAPSHOT snapshot_id_ as the first statement of the transaction just
  // begun; on failure the transaction is ended and the error says whether to retry.
  Status ImportSnapshot();
  // The snapshot comes from another process (ReadOptions::snapshot_id): losing it is an error.
  bool snapshot_held_elsewhere() const { return !options_.snapshot_id.empty(); }
  // Sets `savepoint` in the coordinator's snapshot transaction.
  Status Savepoint(const char* savepoint);
  // Releases `savepoint` (rolled back to first when the statement after it failed); a
  // snapshot transaction that cannot keep going is dropped with its connection.
  void EndSavepoint(const char* savepoint, bool statement_ok);
  // Forgets the coordinator's snapshot (its transaction ended), saying so once.
  void LoseSnapshot(std::string_view why);
  bool coordinating() const { return !exported_snapshot_.empty(); }
  // True while InReadOnlyTransaction runs its body: QueryText then runs inside that
  // transaction instead of treating it as a leftover to reconnect from.
  bool read_only_body_ = false;

  config::SourceConfig config_;
  config::TlsConfig tls_;
  ReadOptions options_;
  ConnPtr conn_;
  int server_version_ = 0;
  // The last connection's protocol and cipher (TlsDescription), "" when it was not encrypted.
  std::string tls_description_;
  // The connection's cancel key, refreshed on every connect. Cancel() may run on any thread,
  // so it is only touched under cancel_mu_; conn_ itself belongs to the calling thread.
  std::mutex cancel_mu_;
  CancelPtr cancel_;
  // Set by Cancel(), cleared when a Stream or QueryText starts: a cancel that reaches the
  // server between two statements of one call (where the server ignores it) still stops it.
  std::atomic<bool> cancel_requested_{false};
  // Coordinator: the id of the snapshot its open transaction exported (empty: none).
  std::string exported_snapshot_;
  // Worker: the shared snapshot each Stream imports (empty: a snapshot of its own).
  std::string snapshot_id_;
  // The current stream runs inside kStreamSavepoint of the coordinator's transaction.
  bool stream_savepoint_ = false;
};

// ---------------------------------------------------------------------------------------------
// PostgresSource

Status PostgresSource::Connect() {
  Disconnect();
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::string> secrets;
  auto add = [&](std::string key, std::string value) {
    keys.push_back(std::move(key));
    values.push_back(std::move(value));
  };
  int expand_dbname = 0;
  // Keywords before an expanded URL are defaults it may override; those after it always win
  // (libpq, PQconnectdbParams).
  add("connect_timeout", std::to_string(kConnectTimeoutS));
  if (config_.url) {
    const std::string& url = config_.url->reveal();
    const bool is_uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
    if (!is_uri && url.find('=') == std::string::npos) {
      return Error(ErrorCode::kConfig,
                   "source url: expected a postgresql:// URL or a key=value connection string");
    }
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
    if (!parsed) {
      std::string why = parse_error ? HideSecrets(TrimMessage(parse_error), UrlSecrets(url)) : "";
      if (parse_error) PQfreemem(parse_error);
      return Error(ErrorCode::kConfig, "source url is not a valid PostgreSQL connection string: {}",
                   why);
    }
    PQconninfoFree(parsed);
    add("dbname", url);
    expand_dbname = 1;
    secrets = UrlSecrets(config_.url->reveal());
  } else {
    if (!config_.host.empty()) add("host", config_.host);
    add("port", std::to_string(config_.effective_port()));
    if (!config_.user.empty()) add("user", config_.user);
    if (config_.password) {
      add("password", config_.password->reveal());
      secrets.push_back(config_.password->reveal());
    }
    if (!config_.database.empty()) add("dbname", config_.database);
  }
  // After the URL, which they agree with (CombineTls refused any conflict). Nothing at all when
  // neither the block nor the URL set anything: libpq's default (prefer, or PGSSLMODE) stays.
  // Rivet's mode names are libpq's sslmode values.
  if (tls_.mode) add("sslmode", std::string(config::ToString(*tls_.mode)));
  if (!tls_.ca_file.empty()) add("sslrootcert", tls_.ca_file);
  if (!tls_.cert_file.empty()) add("sslcert", tls_.cert_file);
  if (!tls_.key_file.empty()) add("sslkey", tls_.key_file);
  add("application_name", "rivet");
  add("client_encoding", "UTF8");

  std::vector<const char*> key_ptrs;
  std::vector<const char*> value_ptrs;
  for (size_t i = 0; i < keys.size(); ++i) {
    key_ptrs.push_back(keys[i].c_str());
    value_ptrs.push_back(values[i].c_str());
  }
  key_ptrs.push_back(nullptr);
  value_ptrs.push_back(nullptr);

  ConnPtr conn(PQconnectdbParams(key_ptrs.data(), value_ptrs.data(), expand_dbname));
  if (!conn) return Error(ErrorCode::kInternal, "libpq could not allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = HideSecrets(TrimMessage(PQerrorMessage(conn.get())), secrets);
    std::string hint =
        config::TlsFailureHint(ClassifyTlsFailure(message), config::PostgresUrlTlsNames());
    return Error(ClassifyConnectionFailure(message), "cannot connect to PostgreSQL: {}{}", message,
                 hint.empty() ? "" : "; " + hint);
  }
  // libpq enforces this itself; checked again because an unencrypted connection where TLS was
  // required is the one failure the setting exists to prevent.
  if (tls_.mode >= config::TlsMode::kRequire && !PQsslInUse(conn.get())) {
    return Error(
        ErrorCode::kAuth,
        "cannot connect to PostgreSQL: the connection is not "
        "encrypted although source.tls.mode is {}; {}",
        config::ToString(*tls_.mode),
        config::TlsFailureHint(config::TlsFailure::kNoServerTls, config::PostgresUrlTlsNames()));
  }
  tls_description_ = DescribeTls(conn.get());
  PQsetNoticeReceiver(conn.get(), ForwardNotice, nullptr);
  CancelPtr cancel(PQgetCancel(conn.get()));
  if (!cancel) return Error(ErrorCode::kInternal, "libpq could not allocate a cancel handle");
  conn_ = std::move(conn);
  {
    std::lock_guard lock(cancel_mu_);
    cancel_ = std::move(cancel);
  }
  server_version_ = PQserverVersion(conn_.get());

  // Session settings: UTC so time values and cursors never shift (reference §4), ISO 8601
  // intervals, shortest exact floats in text; statement_timeout bounds QueryText (streams set
  // their own inside the transaction); standard_conforming_strings is what QuoteLiteral
  // quotes for (it is the default, but a server or role may turn it off).
  RIVET_ASSIGN_OR_RETURN(
      ResultPtr ignored,
      Exec(fmt::format("SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; "
                       "SET extra_float_digits = 3; SET statement_timeout = {}; "
                       "SET lock_timeout = {}; SET standard_conforming_strings = on",
                       options_.statement_timeout_s * 1000, options_.lock_timeout_s * 1000),
           "cannot set up the PostgreSQL session"));
  return Status::Ok();
}

void PostgresSource::Disconnect() {
  LoseSnapshot("the connection was closed");
  {
    std::lock_guard lock(cancel_mu_);
    cancel_.reset();
  }
  conn_.reset();
}

Status PostgresSource::EnsureReady() {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) {
    const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
    const bool in_transaction = coordinating() || read_only_body_;
    if (in_transaction ? status == PQTRANS_INTRANS : status == PQTRANS_IDLE) return Status::Ok();
  }
  return Connect();
}

void PostgresSource::LoseSnapshot(std::string_view why) {
  stream_savepoint_ = false;
  if (exported_snapshot_.empty()) return;
  spdlog::warn(
      "PostgreSQL: the transaction holding the shared snapshot ended ({}); workers that start "
      "a stream from now on read a snapshot of their own",
      why);
  exported_snapshot_.clear();
}

void PostgresSource::Cancel() {
  cancel_requested_.store(true);
  SendCancel();
}

void PostgresSource::SendCancel() {
  std::lock_guard lock(cancel_mu_);
  if (!cancel_) return;
  char error[256] = {0};
  // PQcancel opens its own short connection to the server and is safe on any thread.
  if (!PQcancel(cancel_.get(), error, sizeof(error))) {
    spdlog::warn("could not cancel the PostgreSQL query: {}", TrimMessage(error));
  }
}

Status PostgresSource::CancelledError() {
  return Error(ErrorCode::kTimeout, "the PostgreSQL query was cancelled (Source::Cancel)");
}

Status PostgresSource::ExportSnapshot() {
  RIVET_RETURN_IF_ERROR(EnsureReady());
  cancel_requested_.store(false);
  RIVET_ASSIGN_OR_RETURN(ResultPtr begin,
                         Exec(kBeginReadOnly, "cannot start the shared snapshot's transaction"));
  std::string sql = "SELECT pg_export_snapshot()";
  if (server_version_ >= kIdleInTransactionTimeoutVersion) {
    // The transaction waits idle for the workers for the whole export.
    sql = "SET LOCAL idle_in_transaction_session_timeout = 0; " + sql;
  }
  auto exported = Exec(sql, "cannot export the snapshot (pg_export_snapshot)");
  if (!exported.has_value() || PQntuples(exported->get()) != 1 ||
      PQgetisnull(exported->get(), 0, 0)) {
    Status error = exported.has_value()
                       ? Error(ErrorCode::kSource, "pg_export_snapshot() returned no snapshot")
                       : exported.error();
    ResultPtr rollback(conn_ ? PQexec(conn_.get(), "ROLLBACK") : nullptr);
    if (!rollback || PQresultStatus(rollback.get()) != PGRES_COMMAND_OK) Disconnect();
    return error;
  }
  exported_snapshot_ = PQgetvalue(exported->get(), 0, 0);
  return Status::Ok();
}

Result<std::string> PostgresSource::HoldSnapshot() {
  if (snapshot_held_elsewhere()) {
    return Error(ErrorCode::kInternal, "HoldSnapshot: this source reads another's snapshot");
  }
  if (!coordinating()) RIVET_RETURN_IF_ERROR(ExportSnapshot());
  return exported_snapshot_;
}

Status PostgresSource::ShareSnapshot(std::span<Source* const> workers) {
  std::vector<PostgresSource*> targets;
  targets.reserve(workers.size());
  for (Source* worker : workers) {
    auto* pg = dynamic_cast<PostgresSource*>(worker);
    if (pg == nullptr || pg == this || pg->coordinating()) {
      return Error(ErrorCode::kInternal,
                   "ShareSnapshot: every worker must be another PostgreSQL source that does not "
                   "coordinate a snapshot itself");
    }
    targets.push_back(pg);
  }
  // A second call shares the snapshot already exported.
  if (!coordinating()) RIVET_RETURN_IF_ERROR(ExportSnapshot());
  for (PostgresSource* target : targets) target->snapshot_id_ = exported_snapshot_;
  return Status::Ok();
}

Status PostgresSource::Savepoint(const char* savepoint) {
  auto created = Exec(fmt::format("SAVEPOINT {}", savepoint),
                      "cannot run the statement inside the shared snapshot");
  // Only a broken connection or transaction refuses a savepoint: the snapshot is gone.
  if (!created.has_value()) Disconnect();
  return created.status();
}

void PostgresSource::EndSavepoint(const char* savepoint, bool statement_ok) {
  if (!conn_) return;
  std::string sql =
      statement_ok ? fmt::format("RELEASE SAVEPOINT {}", savepoint)
                   : fmt::format("ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}", savepoint);
  ResultPtr result(PQexec(conn_.get(), sql.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK ||
      PQtransactionStatus(conn_.get()) != PQTRANS_INTRANS) {
    Disconnect();
  }
}

Status PostgresSource::BeginStreamTransaction() {
  if (coordinating()) {
    // Inside the snapshot transaction: the savepoint scopes the stream's SET LOCAL settings and
    // absorbs its errors (EndTransaction rolls back to it).
    RIVET_RETURN_IF_ERROR(Savepoint(kStreamSavepoint));
    stream_savepoint_ = true;
    return Status::Ok();
  }
  auto begin = Exec(kBeginReadOnly, "cannot start the read-only transaction");
  if (!begin.has_value() && begin.error().code() == ErrorCode::kNetwork && !cancel_requested()) {
    // The idle connection died since the last call (server restart, pg_terminate_backend) and
    // nothing ran on it yet, so one fresh connection is safe; a worker rejoins its snapshot.
    spdlog::info("PostgreSQL: reconnecting: {}", begin.error().message());
    RIVET_RETURN_IF_ERROR(Connect());
    begin = Exec(kBeginReadOnly, "cannot start the read-only transaction");
  }
  RIVET_RETURN_IF_ERROR(begin.status());
  if (snapshot_id_.empty()) return Status::Ok();
  Status imported = ImportSnapshot();
  if (imported.ok() || snapshot_held_elsewhere()) return imported;
  const ErrorCode code = imported.code();
  if (code == ErrorCode::kNetwork || code == ErrorCode::kTimeout || cancel_requested()) {
    return imported;  // the snapshot may still be there: the next try imports it
  }
  // The coordinator's transaction is gone (SQLSTATE 22023, invalid snapshot identifier): read
  // a snapshot of this source's own, as ShareSnapshot promises, and say so once.
  spdlog::warn("PostgreSQL: {}; this source reads its own snapshot from now on",
               imported.message());
  snapshot_id_.clear();
  RIVET_ASSIGN_OR_RETURN(ResultPtr again,
                         Exec(kBeginReadOnly, "cannot start the read-only transaction"));
  return Status::Ok();
}

Status PostgresSource::ImportSnapshot() {
  // SET TRANSACTION SNAPSHOT must come before the transaction's first query. The id's shape
  // was checked (CheckSnapshotId), and it is quoted as a literal all the same.
  RIVET_ASSIGN_OR_RETURN(std::string id, QuotePgLiteral(snapshot_id_));
  auto imported =
      Exec(fmt::format("SET TRANSACTION SNAPSHOT {}", id), "cannot import the shared snapshot");
  if (imported.has_value()) return Status::Ok();
  EndTransaction();
  const Status& error = imported.error();
  if (!snapshot_held_elsewhere() || error.code() == ErrorCode::kNetwork ||
      error.code() == ErrorCode::kTimeout || cancel_requested()) {
    return error;  // a lost connection: the snapshot may still be there for the next try
  }
  // 22023 "invalid snapshot identifier": the exporting transaction ended. Not retryable (kSource)
  // and never a fallback: the run promised one snapshot across processes.
  if (error.message().find("(SQLSTATE 22023)") != std::string::npos) {
    return Error(ErrorCode::kSource,
                 "snapshot {} is no longer available: the process holding it (rivet snapshot "
                 "hold) has ended; start a new one ({})",
                 snapshot_id_, error.message());
  }
  return Error(ErrorCode::kSource, "cannot read snapshot {}: {}", snapshot_id_, error.message());
}

Status PostgresSource::ConnectionError(std::string_view what) const {
  std::string message = conn_ ? TrimMessage(PQerrorMessage(conn_.get())) : "not connected";
  if (message.empty()) message = "connection lost";
  ErrorCode code =
      (!conn_ || PQstatus(conn_.get()) == CONNECTION_BAD || LooksLikeLostConnection(message))
          ? ErrorCode::kNetwork
          : ErrorCode::kSource;
  return Error(code, "{}: {}", what, message);
}

Status PostgresSource::ResultError(const PGresult* result, std::string_view what) const {
  if (!result) return ConnectionError(what);
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = TrimMessage(primary ? primary : PQresultErrorMessage(result));
  if (message.empty()) message = TrimMessage(PQresStatus(PQresultStatus(result)));
  if (!sqlstate) {
    // libpq's own errors (lost connection) carry no SQLSTATE.
    ErrorCode code = (PQstatus(conn_.get()) == CONNECTION_BAD || LooksLikeLostConnection(message))
                         ? ErrorCode::kNetwork
                         : ErrorCode::kSource;
    return Error(code, "{}: {}", what, message);
  }
  if (cancel_requested() && std::strcmp(sqlstate, "57014") == 0) {
    message += " (Source::Cancel)";  // rather than statement_timeout_s
  }
  std::string text = fmt::format("{}: {} (SQLSTATE {})", what, message, sqlstate);
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    text += fmt::format("; {}", TrimMessage(detail));
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    text += fmt::format("; hint: {}", TrimMessage(hint));
  }
  return Status(ClassifySqlState(sqlstate), std::move(text));
}

Result<ResultPtr> PostgresSource::Exec(const std::string& sql, std::string_view what) {
  if (!conn_) return Error(ErrorCode::kNetwork, "{}: not connected to PostgreSQL", what);
  ResultPtr result(PQexec(conn_.get(), sql.c_str()));
  if (!result) return ConnectionError(what);
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ResultError(result.get(), what);
  }
  return result;
}

Result<bool> PostgresSource::WaitReadable(std::optional<Clock::time_point> deadline) const {
  const int socket = PQsocket(conn_.get());
  if (socket < 0) return ConnectionError("lost the PostgreSQL connection");
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      auto remaining = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (remaining.count() <= 0) return false;
      timeout_ms = static_cast<int>(std::min<int64_t>(remaining.count(), INT_MAX));
    }
    pollfd fd{socket, POLLIN, 0};
    int ready = poll(&fd, 1, timeout_ms);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) {
      return Error(ErrorCode::kNetwork, "waiting for PostgreSQL failed: {}", std::strerror(errno));
    }
  }
}

// Reads the next result without blocking past `deadline`; null at the end of the results.
Result<PGresult*> PostgresSource::WaitResult(std::optional<Clock::time_point> deadline,
                                             bool* timed_out) {
  *timed_out = false;
  for (;;) {
    if (!PQconsumeInput(conn_.get())) return ConnectionError("lost the PostgreSQL connection");
    if (!PQisBusy(conn_.get())) return PQgetResult(conn_.get());
    RIVET_ASSIGN_OR_RETURN(bool readable, WaitReadable(deadline));
    if (!readable) {
      *timed_out = true;
      return static_cast<PGresult*>(nullptr);
    }
  }
}

void PostgresSource::AbortCopy() {
  if (!conn_) return;
  SendCancel();
  const auto deadline = Clock::now() + kAbortWait;
  for (;;) {
    char* buffer = nullptr;
    int n = PQgetCopyData(conn_.get(), &buffer, 1);
    if (n > 0) {
      PQfreemem(buffer);
      continue;
    }
    if (n < 0) break;  // -1 end of COPY, -2 error: the result follows
    auto readable = WaitReadable(deadline);
    if (!readable.has_value() || !*readable || !PQconsumeInput(conn_.get())) {
      Disconnect();
      return;
    }
  }
  for (;;) {
    bool timed_out = false;
    auto result = WaitResult(deadline, &timed_out);
    if (!result.has_value() || timed_out) {
      Disconnect();
      return;
    }
    if (*result == nullptr) break;
    ResultPtr owned(*result);
    if (PQresultStatus(owned.get()) == PGRES_COPY_OUT) {  // cannot happen after -1; be safe
      Disconnect();
      return;
    }
  }
}

void PostgresSource::EndTransaction() {
  if (!conn_) return;
  const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
  if (status == PQTRANS_ACTIVE) {
    Disconnect();
    return;
  }
  if (coordinating()) {
    if (status == PQTRANS_IDLE) {
      LoseSnapshot("it was committed or rolled back by a statement");
      return;
    }
    if (!stream_savepoint_) return;
    stream_savepoint_ = false;
    EndSavepoint(kStreamSavepoint, false);
    return;
  }
  if (status == PQTRANS_IDLE) return;
  ResultPtr result(PQexec(conn_.get(), "ROLLBACK"));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) Disconnect();
}

Result<std::unique_ptr<RowStream>> PostgresSource::Stream(const std::string& query) {
  const std::string body(StripQuery(query));
  if (body.empty()) return Error(ErrorCode::kQuery, "the query is empty");
  RIVET_RETURN_IF_ERROR(EnsureReady());
  cancel_requested_.store(false);
  RIVET_RETURN_IF_ERROR(BeginStreamTransaction());
  // From here every failure rolls the transaction back.
  struct Rollback {
    PostgresSource* source;
    bool armed = true;
    ~Rollback() {
      if (armed) source->EndTransaction();
    }
  } rollback{this};

  RIVET_ASSIGN_OR_RETURN(
      ResultPtr settings,
      Exec(fmt::format("SET LOCAL TimeZone = 'UTC'; SET LOCAL IntervalStyle = 'iso_8601'; "
                       "SET LOCAL extra_float_digits = 3; SET LOCAL lock_timeout = {}; "
                       "SET LOCAL statement_timeout = {}",
                       options_.lock_timeout_s * 1000, options_.statement_timeout_s * 1000),
           "cannot set up the read-only transaction"));

  // Discover the result columns without running the query.
  ResultPtr prepared(PQprepare(conn_.get(), "", body.c_str(), 0, nullptr));
  if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
    return ResultError(prepared.get(), "the query failed");
  }
  ResultPtr described(PQdescribePrepared(conn_.get(), ""));
  if (!described || PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
    return ResultError(described.get(), "cannot describe the query's result");
  }
  const int nfields = PQnfields(described.get());
  if (nfields <= 0) {
    // `SELECT FROM t` is valid SQL with rows but no columns; a statement that returns nothing
    // (UPDATE without RETURNING) describes the same way.
    return Error(
        ErrorCode::kQuery,
        "the query's result has no columns, and a result without columns cannot be "
        "written to Parquet or CSV; select at least one column (SELECT col, ... FROM ...)");
  }
  std::vector<ResultColumn> columns;
  columns.reserve(static_cast<size_t>(nfields));
  for (int i = 0; i < nfields; ++i) {
    columns.push_back(ResultColumn{PQfname(described.get(), i),
                                   static_cast<uint32_t>(PQftype(described.get(), i)),
                                   PQfmod(described.get(), i)});
  }

  TypeCatalog catalog;
  for (int round = 0; round < kMaxCatalogRounds; ++round) {
    std::vector<uint32_t> missing = MissingTypeOids(columns, catalog);
    if (missing.empty()) break;
    RIVET_ASSIGN_OR_RETURN(
        ResultPtr types,
        Exec(fmt::format("SELECT oid, typname, typtype, typelem, typbasetype, typcategory, "
                         "typtypmod FROM pg_catalog.pg_type WHERE oid = ANY('{{{}}}'::oid[])",
                         fmt::join(missing, ",")),
             "cannot read the result's types from pg_type"));
    for (uint32_t m : missing) catalog[m] = PgTypeInfo{"", 'p', 0, 0, 'X', -1};  // not found
    for (int r = 0; r < PQntuples(types.get()); ++r) {
      auto text = [&](int c) { return std::string_view(PQgetvalue(types.get(), r, c)); };
      auto number = [&](int c) { return std::strtoll(PQgetvalue(types.get(), r, c), nullptr, 10); };
      PgTypeInfo info;
      info.name = std::string(text(1));
      info.type = text(2).empty() ? 'b' : text(2)[0];
      info.element = static_cast<uint32_t>(number(3));
      info.base = static_cast<uint32_t>(number(4));
      info.category = text(5).empty() ? 'U' : text(5)[0];
      info.typmod = static_cast<int32_t>(number(6));
      catalog[static_cast<uint32_t>(number(0))] = std::move(info);
    }
  }
  std::vector<ColumnPlan> plans = PlanColumns(columns, catalog);
  auto schema = std::make_shared<columnar::Schema>();
  std::vector<ColumnDecoder> decoders;
  for (ColumnPlan& plan : plans) {
    schema->push_back(plan.field);
    decoders.push_back(plan.decoder);
  }
  const std::string copy = BuildCopyQuery(body, plans);

  // statement_timeout_s is enforced on the client from here on (time to first row and stalls),
  // so a long COPY that keeps streaming is never cut (reference §4).
  RIVET_ASSIGN_OR_RETURN(ResultPtr no_timeout,
                         Exec("SET LOCAL statement_timeout = 0", "cannot start the COPY"));
  // A Cancel() that reached the server between the statements above was ignored there.
  if (cancel_requested()) return CancelledError();
  if (!PQsendQuery(conn_.get(), copy.c_str())) return ConnectionError("cannot start the COPY");
  std::optional<Clock::time_point> deadline;
  if (options_.statement_timeout_s > 0) {
    deadline = Clock::now() + std::chrono::seconds(options_.statement_timeout_s);
  }
  bool timed_out = false;
  RIVET_ASSIGN_OR_RETURN(PGresult * started, WaitResult(deadline, &timed_out));
  if (timed_out) {
    AbortCopy();
    return Error(ErrorCode::kTimeout, "{}", TimeoutMessage(options_.statement_timeout_s));
  }
  ResultPtr start(started);
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_OUT) {
    Status error = ResultError(start.get(), "the query failed");
    // Read the remaining results so the connection is usable for the rollback.
    while (PGresult* rest = PQgetResult(conn_.get())) PQclear(rest);
    return error;
  }
  const int64_t rows_per_batch = RowsPerBatch(options_, *schema);
  rollback.armed = false;  // the stream owns the transaction now
  return std::unique_ptr<RowStream>(std::make_unique<PostgresRowStream>(
      this, std::move(schema), std::move(decoders), rows_per_batch, deadline));
}

Result<std::vector<std::vector<std::optional<std::string>>>> PostgresSource::QueryText(
    const std::string& sql) {
  RIVET_RETURN_IF_ERROR(EnsureReady());
  cancel_requested_.store(false);
  // The coordinator of a shared snapshot runs the statement inside its snapshot transaction,
  // behind a savepoint so that a failing statement leaves the transaction usable.
  const bool in_snapshot = coordinating();
  if (in_snapshot) RIVET_RETURN_IF_ERROR(Savepoint(kQuerySavepoint));
  // A snapshot held by another process: MIN/MAX must read it too, in a transaction of its own.
  const bool imports = snapshot_held_elsewhere() && !read_only_body_;
  if (imports) {
    RIVET_RETURN_IF_ERROR(Exec(kBeginReadOnly, "cannot start the read-only transaction").status());
    RIVET_RETURN_IF_ERROR(ImportSnapshot());
  }
  auto executed = cancel_requested() ? Result<ResultPtr>(CancelledError())
                                     : Exec(std::string(StripQuery(sql)), "the query failed");
  if (in_snapshot) EndSavepoint(kQuerySavepoint, executed.has_value());
  if (imports) EndTransaction();
  RIVET_ASSIGN_OR_RETURN(ResultPtr result, std::move(executed));
  std::vector<std::vector<std::optional<std::string>>> rows;
  const int nrows = PQntuples(result.get());
  const int ncols = PQnfields(result.get());
  rows.reserve(static_cast<size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result.get(), r, c),
                                     static_cast<size_t>(PQgetlength(result.get(), r, c))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status PostgresSource::InReadOnlyTransaction(const std::function<Status()>& body) {
  RIVET_RETURN_IF_ERROR(EnsureReady());
  if (coordinating()) return body();
  RIVET_RETURN_IF_ERROR(
      Exec("BEGIN TRANSACTION READ ONLY", "cannot begin a read-only transaction").status());
  read_only_body_ = true;
  Status status = body();
  read_only_body_ = false;
  if (conn_ && PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
    (void)Exec("ROLLBACK", "cannot end the read-only transaction");
  }
  return status;
}

std::string PostgresSource::ServerDescription() const {
  const int v = server_version_;
  if (v <= 0) return "PostgreSQL";
  // 150018 -> 15.18; before 10: 90624 -> 9.6.24.
  if (v >= 100000) return fmt::format("PostgreSQL {}.{}", v / 10000, v % 10000);
  return fmt::format("PostgreSQL {}.{}.{}", v / 10000, (v / 100) % 100, v % 100);
}

// ---------------------------------------------------------------------------------------------
// PostgresRowStream

PostgresRowStream::PostgresRowStream(PostgresSource* source, columnar::SchemaPtr schema,
                                     std::vector<ColumnDecoder> decoders, int64_t rows_per_batch,
                                     std::optional<Clock::time_point> first_row_deadline)
    : source_(source),
      schema_(std::move(schema)),
      parser_(std::move(decoders)),
      rows_per_batch_(static_cast<size_t>(std::max<int64_t>(1, rows_per_batch))),
      first_row_deadline_(first_row_deadline) {}

PostgresRowStream::~PostgresRowStream() {
  if (copy_active_) source_->AbortCopy();
  source_->EndTransaction();
}

Status PostgresRowStream::Fail(Status status) {
  failure_ = status;
  if (copy_active_) {
    source_->AbortCopy();
    copy_active_ = false;
  }
  source_->EndTransaction();
  return status;
}

Result<PostgresRowStream::Chunk> PostgresRowStream::ReadChunk() {
  PGconn* conn = source_->conn();
  if (!conn) return Error(ErrorCode::kNetwork, "lost the PostgreSQL connection");
  const int64_t timeout_s = source_->options().statement_timeout_s;
  // The deadline restarts whenever bytes arrive: it bounds the wait for the first row (counted
  // from the start of the COPY) and every stall, never the whole COPY (reference §4). Bytes of
  // a very large row that trickle in count as progress too.
  std::optional<Clock::time_point> deadline;
  auto restart = [&] {
    if (timeout_s > 0) deadline = Clock::now() + std::chrono::seconds(timeout_s);
  };
  if (first_row_deadline_) {
    deadline = first_row_deadline_;
  } else {
    restart();
  }
  for (;;) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(conn, &buffer, 1);
    if (n > 0) {
      first_row_deadline_.reset();
      return Chunk{CopyBuffer(buffer), static_cast<size_t>(n), false};
    }
    if (n == -1) return Chunk{nullptr, 0, true};
    if (n == -2) {
      ResultPtr result(PQgetResult(conn));
      return source_->ResultError(result.get(), "the COPY from PostgreSQL failed");
    }
    RIVET_ASSIGN_OR_RETURN(bool readable, source_->WaitReadable(deadline));
    if (!readable) return Error(ErrorCode::kTimeout, "{}", TimeoutMessage(timeout_s));
    if (!PQconsumeInput(conn)) {
      return source_->ConnectionError("lost the PostgreSQL connection during the COPY");
    }
    first_row_deadline_.reset();
    restart();
  }
}

Status PostgresRowStream::FinishCopy() {
  copy_active_ = false;
  PGconn* conn = source_->conn();
  // The COPY's own result: an error raised after some rows were sent arrives here.
  Status server = Status::Ok();
  while (PGresult* raw = PQgetResult(conn)) {
    ResultPtr result(raw);
    if (server.ok() && PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      server = source_->ResultError(result.get(), "the query failed during the COPY");
    }
  }
  RIVET_RETURN_IF_ERROR(server);
  RIVET_RETURN_IF_ERROR(parser_.Finish());
  done_ = true;
  source_->EndTransaction();
  return Status::Ok();
}

// Variable-length columns grow their byte buffer by doubling; each step copies the batch so far
// and frees a buffer the allocator keeps resident for a while. Reserving kReserveBytesPerRow
// bytes a row up front (address space only: pages never written cost no memory) lets the first
// batches of ordinary text fill in place; longer values still grow the buffer as before.
void PostgresRowStream::ReserveBytes(columnar::Batch& batch) const {
  const size_t want = std::min(rows_per_batch_ * kReserveBytesPerRow, kMaxReserveBytes);
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    columnar::Column& column = batch.mutable_column(c);
    if (column.type().storage() != columnar::Storage::kBytes) continue;
    std::vector<uint8_t>& data = column.mutable_data();
    if (data.capacity() < want) data.reserve(want);
  }
}

Result<bool> PostgresRowStream::Next(columnar::Batch& batch) {
  batch.Clear();
  if (!failure_.ok()) return failure_;
  if (done_) return false;
  // Rows already buffered are not delivered after a Cancel().
  if (source_->cancel_requested()) return Fail(PostgresSource::CancelledError());
  if (batch.schema()->size() != schema_->size()) {
    return Error(ErrorCode::kInternal, "the batch was not built on the stream's schema");
  }
  batch.Reserve(rows_per_batch_);
  ReserveBytes(batch);
  if (Status s = parser_.Drain(batch, rows_per_batch_); !s.ok()) return Fail(std::move(s));
  size_t bytes_since_check = 0;
  while (batch.num_rows() < rows_per_batch_ && copy_active_) {
    auto chunk = ReadChunk();
    if (!chunk.has_value()) return Fail(chunk.error());
    if (chunk->end) {
      if (Status s = FinishCopy(); !s.ok()) return Fail(std::move(s));
      break;
    }
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(chunk->data.get()),
                                   chunk->size);
    if (Status s = parser_.Consume(bytes, batch, rows_per_batch_); !s.ok()) {
      return Fail(std::move(s));
    }
    bytes_since_check += chunk->size;
    if (bytes_since_check >= kByteCheckInterval) {
      bytes_since_check = 0;
      if (batch.ByteSize() >= kMaxBatchBytes) break;
    }
  }
  return batch.num_rows() > 0;
}

}  // namespace

Result<std::unique_ptr<Source>> MakePostgresSource(const config::SourceConfig& config,
                                                   const ReadOptions& options) {
  if (!config.url && config.host.empty()) {
    return Error(ErrorCode::kConfig, "source: PostgreSQL needs url, url_env or host");
  }
  const config::UrlTls url_tls =
      config.url ? UrlTlsParams(config.url->reveal()) : config::PostgresUrlTlsNames();
  RIVET_ASSIGN_OR_RETURN(config::TlsConfig tls, config::CombineTls(config.tls, url_tls));
  return std::unique_ptr<Source>(std::make_unique<PostgresSource>(config, std::move(tls), options));
}

}  // namespace rivet::source::postgres
