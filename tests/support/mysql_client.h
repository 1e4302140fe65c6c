// A minimal libmariadb client for test set-up and for asking the MySQL / MariaDB server how it
// prints values (text protocol: every value as the server's text, NULL as nullopt). Header-only,
// independent of Rivet's own MySQL source so that tests never check Rivet against itself.
#pragma once

#include <mysql.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/csv_reader.h"

namespace rivet::testing {

class MysqlClient {
 public:
  // `url` is mysql://user[:password]@host[:port]/database (the form scripts/servers/mariadb.sh
  // writes); the session runs in UTC so TIMESTAMP columns print as UTC instants.
  explicit MysqlClient(const std::string& url) : conn_(mysql_init(nullptr)) {
    if (!conn_) {
      error_ = "mysql_init failed";
      return;
    }
    std::string_view rest = url;
    constexpr std::string_view kScheme = "mysql://";
    if (rest.substr(0, kScheme.size()) != kScheme) {
      error_ = "not a mysql:// URL";
      return;
    }
    rest.remove_prefix(kScheme.size());
    size_t at = rest.rfind('@');
    std::string_view userinfo = at == std::string_view::npos ? "" : rest.substr(0, at);
    if (at != std::string_view::npos) rest.remove_prefix(at + 1);
    size_t slash = rest.find('/');
    std::string_view hostport = rest.substr(0, slash);
    std::string database(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
    size_t colon = userinfo.find(':');
    std::string user(userinfo.substr(0, colon));
    std::string password(colon == std::string_view::npos ? "" : userinfo.substr(colon + 1));
    size_t port_colon = hostport.rfind(':');
    std::string host(hostport.substr(0, port_colon));
    unsigned port =
        port_colon == std::string_view::npos
            ? 3306
            : static_cast<unsigned>(std::stoul(std::string(hostport.substr(port_colon + 1))));
    mysql_optionsv(conn_.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(conn_.get(), host.c_str(), user.c_str(), password.c_str(),
                            database.c_str(), port, nullptr, CLIENT_MULTI_STATEMENTS)) {
      error_ = mysql_error(conn_.get());
      return;
    }
    connected_ = true;
    Exec("SET time_zone = '+00:00'");
  }

  bool ok() const { return connected_; }
  const std::string& error() const { return error_; }

  // Runs statements (several separated by ';'); returns the first error text, empty on success.
  std::string Exec(const std::string& sql) {
    error_.clear();
    if (!connected_) return error_ = "not connected";
    if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) {
      return error_ = mysql_error(conn_.get());
    }
    while (true) {
      MYSQL_RES* res = mysql_store_result(conn_.get());
      if (res) mysql_free_result(res);
      int next = mysql_next_result(conn_.get());
      if (next > 0) return error_ = mysql_error(conn_.get());
      if (next < 0) break;
    }
    return error_;
  }

  // Runs one query and returns its rows as text (NULL = nullopt). Empty on error (see error()).
  std::vector<CsvRow> Query(const std::string& sql) {
    std::vector<CsvRow> rows;
    error_.clear();
    if (!connected_) {
      error_ = "not connected";
      return rows;
    }
    if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) {
      error_ = mysql_error(conn_.get());
      return rows;
    }
    std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_store_result(conn_.get()),
                                                                 &mysql_free_result);
    if (!res) {
      error_ = mysql_field_count(conn_.get()) == 0 ? "the statement returned no rows"
                                                   : mysql_error(conn_.get());
      return rows;
    }
    unsigned fields = mysql_num_fields(res.get());
    while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
      unsigned long* lengths = mysql_fetch_lengths(res.get());
      CsvRow out;
      for (unsigned c = 0; c < fields; ++c) {
        if (row[c] == nullptr)
          out.push_back(std::nullopt);
        else
          out.push_back(std::string(row[c], lengths[c]));
      }
      rows.push_back(std::move(out));
    }
    return rows;
  }

 private:
  struct Closer {
    void operator()(MYSQL* m) const { mysql_close(m); }
  };
  std::unique_ptr<MYSQL, Closer> conn_;
  bool connected_ = false;
  std::string error_;
};

}  // namespace rivet::testing
