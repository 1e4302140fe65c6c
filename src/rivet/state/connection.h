// The state store's private view of a database: one connection, statements with positional
// parameters, transactions. Two drivers implement it (sqlite/, postgres/), so the StateStore
// holds its logic and SQL once and both backends produce the same rows by construction.
//
// SQL is written once with SQLite's placeholders `?1`, `?2`, ...; the PostgreSQL driver turns
// them into `$1`, `$2`, ... Where the two dialects differ (ids, "now", row locks), the store asks
// DialectSql for the piece of text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/result.h"

namespace rivet::state {

enum class Dialect : uint8_t { kSqlite, kPostgres };

// One driver's statement. Bind indexes are 1-based; a failed bind is reported by the next Step.
class StatementDriver {
 public:
  virtual ~StatementDriver() = default;
  virtual void Bind(int index, std::string_view text) = 0;
  virtual void Bind(int index, int64_t value) = 0;
  virtual void BindNull(int index) = 0;
  // Runs the statement on the first call; true while a row is available.
  [[nodiscard]] virtual Result<bool> Step() = 0;
  virtual bool IsNull(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual std::string Text(int column) const = 0;  // "" for NULL
};

// A prepared statement with chaining binds, so call sites stay linear.
class Statement {
 public:
  explicit Statement(std::unique_ptr<StatementDriver> driver) : driver_(std::move(driver)) {}

  Statement& Bind(int index, std::string_view text) {
    driver_->Bind(index, text);
    return *this;
  }
  Statement& Bind(int index, int64_t value) {
    driver_->Bind(index, value);
    return *this;
  }
  Statement& BindNull(int index) {
    driver_->BindNull(index);
    return *this;
  }
  Statement& BindOptional(int index, const std::optional<std::string>& text) {
    if (!text) return BindNull(index);
    return Bind(index, std::string_view(*text));
  }

  [[nodiscard]] Result<bool> Step() { return driver_->Step(); }
  // Steps until done (INSERT, UPDATE, DELETE).
  [[nodiscard]] Status Run();

  bool IsNull(int column) const { return driver_->IsNull(column); }
  int64_t Int(int column) const { return driver_->Int(column); }
  std::string Text(int column) const { return driver_->Text(column); }
  std::optional<std::string> OptionalText(int column) const {
    if (IsNull(column)) return std::nullopt;
    return Text(column);
  }

 private:
  std::unique_ptr<StatementDriver> driver_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // What the store is, for error messages, never with a password: "/dir/.rivet_state.db" or
  // "PostgreSQL host:port/db".
  virtual const std::string& description() const = 0;
  // SQL text that carries no values; may hold several statements (schema, BEGIN/COMMIT).
  [[nodiscard]] virtual Status Exec(std::string_view sql) = 0;
  [[nodiscard]] virtual Result<Statement> Prepare(std::string_view sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  virtual int64_t Changes() const = 0;
  // Opens a write transaction: SQLite takes the write lock up front (BEGIN IMMEDIATE, so a busy
  // file waits in the busy handler instead of failing at the first write); PostgreSQL BEGIN.
  [[nodiscard]] virtual Status Begin() = 0;
  // Inside a transaction: waits for every other process holding `key` (PostgreSQL
  // pg_advisory_xact_lock, released at commit or rollback). SQLite's write lock already
  // serialises every transaction, so there it does nothing.
  [[nodiscard]] virtual Status LockKey(int64_t key) = 0;
  [[nodiscard]] virtual Status LockText(std::string_view key) = 0;
};

// Begin on construction; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> Begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  [[nodiscard]] Status Commit();

 private:
  explicit Transaction(Connection* db) : db_(db) {}
  Connection* db_;  // nullptr once committed or moved from
};

// Text that differs between the dialects, each a fragment of SQL with no values.
struct DialectSql {
  // The column giving recording order, for ties of equal timestamps ("rowid" | "seq").
  std::string_view recorded_order;
  // The current time in epoch milliseconds, by the store's clock (PostgreSQL's
  // clock_timestamp(), so workers on hosts with skewed clocks agree).
  std::string_view now_ms;
  // Appended to a SELECT that picks a row to claim: rows another transaction holds are passed
  // over instead of waited for (PostgreSQL); SQLite's write lock already serialises.
  std::string_view skip_locked;
  // Appended to a SELECT that reads a row the transaction is about to fence on.
  std::string_view for_update;
};
const DialectSql& SqlOf(Dialect dialect);

// Opens the SQLite file at `path` (created when missing) with WAL and a busy timeout.
[[nodiscard]] Result<std::unique_ptr<Connection>> OpenSqliteConnection(const std::string& path,
                                                                       int busy_timeout_ms);
// Connects to the PostgreSQL server at `url` (a libpq URL or conninfo string).
[[nodiscard]] Result<std::unique_ptr<Connection>> OpenPostgresConnection(const std::string& url);

}  // namespace rivet::state
