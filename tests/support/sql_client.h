// One test client for either engine, so a test can run the same scenario on PostgreSQL and on
// MySQL/MariaDB (TEST_P over Engine). Independent of Rivet's own sources.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/csv_reader.h"
#include "support/mysql_client.h"
#include "support/pg_client.h"

namespace rivet::testing {

struct Engine {
  const char* name;         // test name suffix: "postgres" | "mysql"
  const char* url_env;      // where scripts/test.sh put the server's URL
  const char* source_type;  // source.type in rivet.yaml
  bool postgres() const { return std::string(source_type) == "postgres"; }
};

inline constexpr Engine kPostgres{"postgres", "RIVET_TEST_PG_URL", "postgres"};
inline constexpr Engine kMysql{"mysql", "RIVET_TEST_MYSQL_URL", "mysql"};

class SqlClient {
 public:
  SqlClient(const Engine& engine, const std::string& url) {
    if (engine.postgres()) {
      pg_ = std::make_unique<PgClient>(url);
    } else {
      my_ = std::make_unique<MysqlClient>(url);
    }
  }
  bool ok() const { return pg_ ? pg_->ok() : my_->ok(); }
  std::string error() const { return pg_ ? pg_->error() : my_->error(); }
  // The error text, empty on success.
  std::string Exec(const std::string& sql) { return pg_ ? pg_->Exec(sql) : my_->Exec(sql); }
  std::vector<CsvRow> Query(const std::string& sql) {
    return pg_ ? pg_->Query(sql) : my_->Query(sql);
  }
  // The first column of the first row ("" when there is none or it is NULL).
  std::string Scalar(const std::string& sql) {
    std::vector<CsvRow> rows = Query(sql);
    if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
    return *rows[0][0];
  }

 private:
  std::unique_ptr<PgClient> pg_;
  std::unique_ptr<MysqlClient> my_;
};

}  // namespace rivet::testing
