#include "rivet/state/connection.h"

namespace rivet::state {

Status Statement::Run() {
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

Result<Transaction> Transaction::Begin(Connection& db) {
  RIVET_RETURN_IF_ERROR(db.Begin());
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    // Nothing to report from a destructor: a failed rollback leaves the server (or SQLite) to
    // roll back when the connection closes.
    (void)db_->Exec("ROLLBACK");
  }
}

Status Transaction::Commit() {
  if (db_ == nullptr) {
    return Error(ErrorCode::kInternal, "state database: commit without a transaction");
  }
  RIVET_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  db_ = nullptr;
  return Status::Ok();
}

const DialectSql& SqlOf(Dialect dialect) {
  // SQLite 3.40 has no sub-second unixepoch(): seconds and the milliseconds of %f, from one
  // 'now' (stable within a statement).
  static const DialectSql kSqlite{"rowid",
                                  "(CAST(strftime('%s', 'now') AS INTEGER) * 1000 + "
                                  "CAST(substr(strftime('%f', 'now'), 4, 3) AS INTEGER))",
                                  "", ""};
  static const DialectSql kPostgres{
      "seq", "CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)",
      " FOR UPDATE SKIP LOCKED", " FOR UPDATE"};
  return dialect == Dialect::kPostgres ? kPostgres : kSqlite;
}

}  // namespace rivet::state
