#include "rivet/state/sqlite/sqlite.h"

#include <limits>

namespace rivet::state::sqlite {

namespace {
// The start of a statement, on one line, to say which statement failed without the whole text.
std::string Abbreviate(std::string_view sql) {
  constexpr size_t kMaxChars = 60;
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= kMaxChars) {
      out += "...";
      break;
    }
  }
  return out;
}
}  // namespace

Status ToStatus(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  ErrorCode code = ErrorCode::kIo;
  switch (primary) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = ErrorCode::kCorrupt;
      break;
    case SQLITE_ERROR:  // malformed SQL or a missing table: our statements are fixed text
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_CONSTRAINT:  // the schema's CHECKs guard values the pipeline builds
    case SQLITE_MISMATCH:
      code = ErrorCode::kInternal;
      break;
    default:
      break;  // busy, locked, full disk, read-only, cannot open: the file system's side
  }
  // The connection's message is more precise than the code's generic text when it belongs to rc.
  const char* message =
      (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error(code, "state database: {}: {}", what, message);
}

Statement& Statement::Bind(int index, std::string_view text) {
  Remember(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8));
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  Remember(sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

Statement& Statement::BindOptional(int index, const std::optional<std::string>& text) {
  if (!text) return BindNull(index);
  return Bind(index, std::string_view(*text));
}

Statement& Statement::BindNull(int index) {
  Remember(sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

void Statement::Remember(int rc) {
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return ToStatus(db_, bind_rc_, "binding a parameter");
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ToStatus(db_, rc, Abbreviate(sqlite3_sql(stmt_.get())));
}

Status Statement::Run() {
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

Result<Database> Database::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the StateStore serialises calls on a connection with its own mutex.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DatabaseHandle db(raw);  // sqlite3_open_v2 may hand back a handle even when it fails
  if (rc != SQLITE_OK) return ToStatus(db.get(), rc, "cannot open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  return Database(std::move(db));
}

Status Database::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return ToStatus(db_.get(), rc, Abbreviate(sql));
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  if (sql.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Error(ErrorCode::kInternal, "state database: statement too long");
  }
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  StatementHandle stmt(raw);
  if (rc != SQLITE_OK) return ToStatus(db_.get(), rc, Abbreviate(sql));
  return Statement(db_.get(), std::move(stmt));
}

int64_t Database::Changes() const { return sqlite3_changes64(db_.get()); }

}  // namespace rivet::state::sqlite
