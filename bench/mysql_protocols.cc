// Streams a 5M-row `events` table through the MySQL source's two wire protocols and prints the
// wall time of each, to pick the default (mysql_source.h kDefaultProtocol).
//
//   mysql_protocols [URL] [RUNS] [text|binary]
//     URL defaults to $RIVET_TEST_MYSQL_URL, RUNS to 3, both protocols unless one is named.
//   On a shared machine wall times are noisy: compare the CPU each path costs the client and
//   the server too (e.g. /proc/<mariadbd pid>/stat before and after a single-protocol run).
//
// The table is created once (MariaDB's Sequence engine provides seq_1_to_5000000):
//   events(id bigint pk, user_id int, event_type varchar(32) with 8 values,
//          payload varchar(255) of about 85 characters, amount decimal(12,2),
//          created_at datetime(6))
// Compare with the server's own client: `mariadb --quick -e 'SELECT * FROM events' >/dev/null`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rivet/columnar/batch.h"
#include "rivet/config/config.h"
#include "rivet/source/mysql/mysql_source.h"

namespace {

using rivet::source::mysql::Protocol;

constexpr int64_t kRows = 5000000;

const char* kCreate = R"(CREATE TABLE IF NOT EXISTS events (
  id BIGINT NOT NULL PRIMARY KEY,
  user_id INT NOT NULL,
  event_type VARCHAR(32) NOT NULL,
  payload VARCHAR(255),
  amount DECIMAL(12,2),
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB)";

const char* kFill = R"(INSERT INTO events
SELECT seq, seq % 100003,
       ELT(1 + seq % 8, 'page_view','click','signup','login','logout','purchase','refund','search'),
       CONCAT('{"session":"', MD5(seq), '","page":"/products/', seq % 5000, '","ref":"search"}'),
       CAST((seq * 7919) % 1000000 AS DECIMAL(12,2)) / 100,
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL (seq * 6311) % 31536000000000 MICROSECOND
FROM seq_1_to_5000000)";

rivet::config::SourceConfig ConfigFor(const std::string& url) {
  rivet::config::SourceConfig config;
  config.type = rivet::config::SourceType::kMysql;
  config.url = rivet::config::Secret(url);
  return config;
}

int Fail(const rivet::Status& status) {
  std::fprintf(stderr, "mysql_protocols: %s\n", status.message().c_str());
  return 1;
}

// Creates and fills the table unless it already holds kRows rows.
rivet::Status EnsureTable(const std::string& url) {
  auto source = rivet::source::mysql::MakeMysqlSource(ConfigFor(url), {});
  if (!source) return source.error();
  RIVET_RETURN_IF_ERROR((*source)->Connect());
  RIVET_RETURN_IF_ERROR((*source)->QueryText(kCreate));
  auto count = (*source)->QueryText("SELECT COUNT(*) FROM events");
  if (!count) return count.error();
  if ((*count)[0][0].value_or("0") == std::to_string(kRows)) return rivet::Status::Ok();
  std::fprintf(stderr, "mysql_protocols: filling events with %lld rows...\n",
               static_cast<long long>(kRows));
  RIVET_RETURN_IF_ERROR((*source)->QueryText("TRUNCATE TABLE events"));
  RIVET_RETURN_IF_ERROR((*source)->QueryText(kFill));
  return rivet::Status::Ok();
}

struct RunResult {
  double seconds = 0;
  int64_t rows = 0;
  int64_t id_sum = 0;  // consumed so the decode cannot be skipped, and compared across paths
};

rivet::Result<RunResult> StreamOnce(const std::string& url, Protocol protocol) {
  rivet::source::ReadOptions options;  // batch_rows 10000, as the balanced profile
  auto made = rivet::source::mysql::MakeMysqlSourceWithProtocol(ConfigFor(url), options, protocol);
  if (!made) return made.error();
  auto& source = *made;
  auto start = std::chrono::steady_clock::now();
  RIVET_RETURN_IF_ERROR(source->Connect());
  RIVET_ASSIGN_OR_RETURN(auto stream, source->Stream("SELECT * FROM events"));
  rivet::columnar::Batch batch(stream->schema());
  RunResult result;
  while (true) {
    RIVET_ASSIGN_OR_RETURN(bool more, stream->Next(batch));
    if (!more) break;
    result.rows += static_cast<int64_t>(batch.num_rows());
    for (int64_t id : batch.column(0).values<int64_t>()) result.id_sum += id;
  }
  stream.reset();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  if (argc > 1) {
    url = argv[1];
  } else if (const char* env = std::getenv("RIVET_TEST_MYSQL_URL")) {
    url = env;
  } else {
    std::fprintf(stderr,
                 "usage: mysql_protocols URL [RUNS] [text|binary] (or set RIVET_TEST_MYSQL_URL)\n");
    return 2;
  }
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  if (runs < 1) runs = 1;
  const std::string only = argc > 3 ? argv[3] : "";
  rivet::Status ready = EnsureTable(url);
  if (!ready.ok()) return Fail(ready);

  const struct {
    Protocol protocol;
    const char* name;
  } paths[] = {{Protocol::kText, "text (mysql_use_result)"},
               {Protocol::kBinary, "binary (prepared, unbuffered)"}};
  int64_t expected_sum = -1;
  for (int run = 1; run <= runs; ++run) {
    for (const auto& path : paths) {
      if (!only.empty() && std::string(path.name).rfind(only, 0) != 0) continue;
      auto result = StreamOnce(url, path.protocol);
      if (!result) return Fail(result.error());
      if (result->rows != kRows || (expected_sum >= 0 && result->id_sum != expected_sum)) {
        std::fprintf(stderr, "mysql_protocols: %s read %lld rows (sum %lld), expected %lld\n",
                     path.name, static_cast<long long>(result->rows),
                     static_cast<long long>(result->id_sum), static_cast<long long>(kRows));
        return 1;
      }
      expected_sum = result->id_sum;
      std::printf("run %d  %-30s %lld rows  %.2f s  %.0f rows/s\n", run, path.name,
                  static_cast<long long>(result->rows), result->seconds,
                  static_cast<double>(result->rows) / result->seconds);
      std::fflush(stdout);
    }
  }
  return 0;
}
