// Thin RAII layer over the SQLite C API, private to the state module (sqlite_connection.cc
// adapts it to the store's Connection).
//
// Every sqlite3 and sqlite3_stmt lives in a unique_ptr with its deleter; values reach SQL only
// through bound parameters, never by pasting text into statements. Failures become Status values
// with a classified ErrorCode (corrupt file, busy/locked or other I/O, or a Rivet bug).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/result.h"

namespace rivet::state::sqlite {

struct DatabaseCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DatabaseHandle = std::unique_ptr<sqlite3, DatabaseCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Maps a SQLite result code and the connection's message to a Status.
Status ToStatus(sqlite3* db, int rc, std::string_view what);

// One prepared statement. Bind* take 1-based parameter indexes; a failed bind is remembered and
// reported by the next Step() so call sites stay linear.
class Statement {
 public:
  Statement(sqlite3* db, StatementHandle stmt) : db_(db), stmt_(std::move(stmt)) {}

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindOptional(int index, const std::optional<std::string>& text);  // NULL if none
  Statement& BindNull(int index);

  // Advances: true when a row is available, false when the statement is done.
  [[nodiscard]] Result<bool> Step();
  // Steps until done (INSERT, UPDATE, DELETE).
  [[nodiscard]] Status Run();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;  // "" for NULL
  std::optional<std::string> OptionalText(int column) const;

 private:
  void Remember(int rc);

  sqlite3* db_;
  StatementHandle stmt_;
  int bind_rc_ = SQLITE_OK;
};

class Database {
 public:
  // Opens (creating when missing) the file at `path` in read-write mode.
  [[nodiscard]] static Result<Database> Open(const std::string& path);

  // Runs SQL text that carries no values (schema, pragmas, BEGIN/COMMIT).
  [[nodiscard]] Status Exec(const char* sql);
  [[nodiscard]] Result<Statement> Prepare(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  int64_t Changes() const;
  sqlite3* get() const { return db_.get(); }

 private:
  explicit Database(DatabaseHandle db) : db_(std::move(db)) {}
  DatabaseHandle db_;
};

}  // namespace rivet::state::sqlite
