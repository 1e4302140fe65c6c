#include "support/pg_client.h"

#include <libpq-fe.h>

namespace rivet::testing {

namespace {
PGconn* Conn(void* p) { return static_cast<PGconn*>(p); }
}  // namespace

PgClient::PgClient(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}

PgClient::~PgClient() { PQfinish(Conn(conn_)); }

bool PgClient::ok() const { return PQstatus(Conn(conn_)) == CONNECTION_OK; }

std::string PgClient::error() const {
  return last_error_.empty() ? PQerrorMessage(Conn(conn_)) : last_error_;
}

std::string PgClient::Exec(const std::string& sql) {
  PGresult* res = PQexec(Conn(conn_), sql.c_str());
  std::string err;
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) err = PQresultErrorMessage(res);
  PQclear(res);
  last_error_ = err;
  return err;
}

std::vector<CsvRow> PgClient::Query(const std::string& sql) {
  std::vector<CsvRow> rows;
  PGresult* res = PQexec(Conn(conn_), sql.c_str());
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    last_error_ = PQresultErrorMessage(res);
    PQclear(res);
    return rows;
  }
  last_error_.clear();
  for (int r = 0; r < PQntuples(res); ++r) {
    CsvRow row;
    for (int c = 0; c < PQnfields(res); ++c) {
      if (PQgetisnull(res, r, c))
        row.push_back(std::nullopt);
      else
        row.push_back(
            std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

}  // namespace rivet::testing
