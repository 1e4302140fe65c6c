// The PostgreSQL driver of the state store's Connection (libpq).
//
// Statements run with PQexecParams and text parameters (the server infers each type from its
// use), so values never become SQL text. `?N` placeholders become `$N`. Every PGconn and
// PGresult lives in a unique_ptr with its deleter. Errors name the store as "PostgreSQL
// host:port/db" and never carry the URL: its password is a secret (reference §4).
#include <libpq-fe.h>

#include <charconv>
#include <vector>

#include "rivet/common/secrets.h"
#include "rivet/state/connection.h"
#include "rivet/state/state.h"

namespace rivet::state {

namespace {

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Classifies a failed statement by its SQLSTATE (PostgreSQL Appendix A). The store's SQL is
// fixed text, so syntax and constraint errors are Rivet bugs.
ErrorCode CodeOf(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return ErrorCode::kNetwork;  // no server answer: the link broke
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08") return ErrorCode::kNetwork;
  if (sqlstate == "40001" || sqlstate == "40P01") return ErrorCode::kDeadlock;
  if (cls == "53" || sqlstate == "57P03") return ErrorCode::kCapacity;
  if (sqlstate == "57014" || sqlstate == "55P03") return ErrorCode::kTimeout;
  if (cls == "28" || sqlstate == "42501") return ErrorCode::kAuth;
  if (cls == "42" || cls == "23" || cls == "22") return ErrorCode::kInternal;
  return ErrorCode::kIo;
}

std::string OneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// `?1` -> `$1`, outside string literals (the store's SQL has no `?` elsewhere).
std::string ToDollarPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_literal = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') in_literal = !in_literal;
    if (c == '?' && !in_literal && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
    } else {
      out += c;
    }
  }
  return out;
}

class PostgresConnection;

class PostgresStatement final : public StatementDriver {
 public:
  PostgresStatement(PostgresConnection* conn, std::string sql)
      : conn_(conn), sql_(std::move(sql)) {}
  void Bind(int index, std::string_view text) override { Set(index, std::string(text)); }
  void Bind(int index, int64_t value) override { Set(index, std::to_string(value)); }
  void BindNull(int index) override { Set(index, std::nullopt); }
  Result<bool> Step() override;
  bool IsNull(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }
  int64_t Int(int column) const override {
    const char* v = PQgetvalue(result_.get(), row_, column);
    const size_t n = static_cast<size_t>(PQgetlength(result_.get(), row_, column));
    // Booleans (EXISTS) come back as t/f.
    if (n == 1 && (v[0] == 't' || v[0] == 'f')) return v[0] == 't' ? 1 : 0;
    int64_t out = 0;
    std::from_chars(v, v + n, out);
    return out;
  }
  std::string Text(int column) const override {
    if (IsNull(column)) return {};
    return std::string(PQgetvalue(result_.get(), row_, column),
                       static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
  }

 private:
  void Set(int index, std::optional<std::string> value) {
    if (index < 1) return;
    if (params_.size() < static_cast<size_t>(index)) params_.resize(static_cast<size_t>(index));
    params_[static_cast<size_t>(index) - 1] = std::move(value);
  }

  PostgresConnection* conn_;
  std::string sql_;
  std::vector<std::optional<std::string>> params_;
  ResultPtr result_;
  int row_ = -1;
  bool executed_ = false;
};

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(ConnPtr conn, std::string description)
      : conn_(std::move(conn)), description_(std::move(description)) {}
  Dialect dialect() const override { return Dialect::kPostgres; }
  const std::string& description() const override { return description_; }

  Status Exec(std::string_view sql) override {
    ResultPtr result(PQexec(conn_.get(), std::string(sql).c_str()));
    return Check(result.get(), sql);
  }
  Result<Statement> Prepare(std::string_view sql) override {
    return Statement(std::make_unique<PostgresStatement>(this, ToDollarPlaceholders(sql)));
  }
  int64_t Changes() const override { return changes_; }
  Status Begin() override { return Exec("BEGIN"); }
  Status LockKey(int64_t key) override {
    RIVET_ASSIGN_OR_RETURN(auto stmt, Prepare("SELECT pg_advisory_xact_lock(CAST(?1 AS BIGINT))"));
    stmt.Bind(1, key);
    return stmt.Run();
  }
  Status LockText(std::string_view key) override {
    RIVET_ASSIGN_OR_RETURN(auto stmt, Prepare("SELECT pg_advisory_xact_lock(hashtext(?1))"));
    stmt.Bind(1, key);
    return stmt.Run();
  }

  Result<ResultPtr> Execute(const std::string& sql,
                            const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    ResultPtr result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()),
                                  nullptr, values.data(), nullptr, nullptr, 0));
    RIVET_RETURN_IF_ERROR(Check(result.get(), sql));
    return result;
  }

 private:
  Status Check(PGresult* result, std::string_view sql) {
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      const char* tuples = PQcmdTuples(result);
      changes_ = 0;
      if (tuples != nullptr && *tuples != '\0') {
        std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), changes_);
      }
      return Status::Ok();
    }
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string message =
        OneLine(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get()));
    std::string what(sql.substr(0, std::min<size_t>(sql.size(), 60)));
    return Error(CodeOf(state ? state : ""), "state database ({}): {}: {}", description_,
                 OneLine(what), message);
  }

  ConnPtr conn_;
  std::string description_;
  int64_t changes_ = 0;
};

Result<bool> PostgresStatement::Step() {
  if (!executed_) {
    executed_ = true;
    RIVET_ASSIGN_OR_RETURN(result_, conn_->Execute(sql_, params_));
  }
  if (!result_) return false;
  ++row_;
  return row_ < PQntuples(result_.get());
}

}  // namespace

namespace {

// The value of one conninfo keyword of a URL or conninfo string; "" when absent or unparsable.
std::string ConninfoValue(const std::string& url, std::string_view keyword) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoDeleter> options(PQconninfoParse(url.c_str(), &error));
  if (error != nullptr) PQfreemem(error);
  if (!options) return "";
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && keyword == o->keyword) return o->val;
  }
  return "";
}

}  // namespace

std::string DescribePostgresUrl(const std::string& url) {
  std::string host = ConninfoValue(url, "host");
  if (host.empty()) host = ConninfoValue(url, "hostaddr");
  if (host.empty()) host = "localhost";
  const std::string port = ConninfoValue(url, "port");
  return fmt::format("{}{}{}/{}", host, port.empty() ? "" : ":", port,
                     ConninfoValue(url, "dbname"));
}

Result<std::unique_ptr<Connection>> OpenPostgresConnection(const std::string& url) {
  const std::string description = "PostgreSQL " + DescribePostgresUrl(url);
  ConnPtr conn(PQconnectdb(url.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    // libpq's message names host and user, not the password; hide it anyway (second line of
    // defence) together with anything shaped like a credential.
    std::string message = conn ? OneLine(PQerrorMessage(conn.get())) : "out of memory";
    message = HideCredentialShapes(
        HideSecrets(std::move(message), {url, ConninfoValue(url, "password")}));
    return Error(ErrorCode::kNetwork,
                 "cannot open the state store ({}): {}; check RIVET_STATE_URL or the variable "
                 "named by state.url_env (a postgresql:// URL the server accepts)",
                 description, message);
  }
  auto connection = std::make_unique<PostgresConnection>(std::move(conn), description);
  // The store's times are text written by Rivet; the session settings only keep notices quiet.
  RIVET_RETURN_IF_ERROR(connection->Exec("SET client_min_messages = warning"));
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace rivet::state
