// The SQLite driver of the state store's Connection, over the RAII layer of sqlite.h.
#include <chrono>
#include <thread>

#include "rivet/state/connection.h"
#include "rivet/state/sqlite/sqlite.h"

namespace rivet::state {

namespace {

class SqliteStatement final : public StatementDriver {
 public:
  explicit SqliteStatement(sqlite::Statement stmt) : stmt_(std::move(stmt)) {}
  void Bind(int index, std::string_view text) override { stmt_.Bind(index, text); }
  void Bind(int index, int64_t value) override { stmt_.Bind(index, value); }
  void BindNull(int index) override { stmt_.BindNull(index); }
  Result<bool> Step() override { return stmt_.Step(); }
  bool IsNull(int column) const override { return stmt_.IsNull(column); }
  int64_t Int(int column) const override { return stmt_.Int(column); }
  std::string Text(int column) const override { return stmt_.Text(column); }

 private:
  sqlite::Statement stmt_;
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite::Database db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}
  Dialect dialect() const override { return Dialect::kSqlite; }
  const std::string& description() const override { return path_; }
  Status Exec(std::string_view sql) override { return db_.Exec(std::string(sql).c_str()); }
  Result<Statement> Prepare(std::string_view sql) override {
    RIVET_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql));
    return Statement(std::make_unique<SqliteStatement>(std::move(stmt)));
  }
  int64_t Changes() const override { return db_.Changes(); }
  Status Begin() override { return db_.Exec("BEGIN IMMEDIATE"); }
  Status LockKey(int64_t) override { return Status::Ok(); }
  Status LockText(std::string_view) override { return Status::Ok(); }

 private:
  sqlite::Database db_;
  std::string path_;
};

// Switching a new file to WAL needs the file to itself, and SQLite reports a clash with another
// process opening it at that moment as busy at once, without the busy handler (several workers
// starting together do this), so the switch is retried for as long as the busy timeout.
Status SwitchToWal(sqlite::Database& db, int busy_timeout_ms) {
  constexpr auto kPause = std::chrono::milliseconds(10);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  while (true) {
    const int rc = sqlite3_exec(db.get(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
      if (rc == SQLITE_OK) return Status::Ok();
      return sqlite::ToStatus(db.get(), rc, "switching to WAL");
    }
    std::this_thread::sleep_for(kPause);
  }
}

}  // namespace

Result<std::unique_ptr<Connection>> OpenSqliteConnection(const std::string& path,
                                                         int busy_timeout_ms) {
  RIVET_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path));
  // The busy timeout comes first so that migrating waits for another process's lock instead of
  // failing at once.
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  RIVET_RETURN_IF_ERROR(SwitchToWal(db, busy_timeout_ms));
  RIVET_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  return std::unique_ptr<Connection>(std::make_unique<SqliteConnection>(std::move(db), path));
}

}  // namespace rivet::state
