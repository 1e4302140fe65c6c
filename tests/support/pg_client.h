// A minimal libpq client for test set-up and for asking PostgreSQL how it prints values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "support/csv_reader.h"

namespace rivet::testing {

class PgClient {
 public:
  explicit PgClient(const std::string& url);
  ~PgClient();
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;

  bool ok() const;
  std::string error() const;
  // Runs statements; returns the error text, empty on success.
  std::string Exec(const std::string& sql);
  // Runs a query and returns its rows as text (NULL = nullopt). Empty on error (see error()).
  std::vector<CsvRow> Query(const std::string& sql);

 private:
  void* conn_;
  std::string last_error_;
};

}  // namespace rivet::testing
