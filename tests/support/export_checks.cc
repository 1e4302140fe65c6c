#include "support/export_checks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

#include "support/pg_client.h"
#include "support/test_env.h"

namespace rivet::testing {

namespace fs = std::filesystem;

namespace {
constexpr const char* kDigest =
    "SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM ";
}  // namespace

std::string TestObjectPrefix() {
  return std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
         std::to_string(::getpid()) + "/";
}

net::HttpResponse SendPlain(const std::string& method, const std::string& url,
                            const std::string& body) {
  auto client = net::HttpClient::Create();
  EXPECT_TRUE(client.has_value());
  if (!client.has_value()) return {};
  auto r = client->Send({method, url, {}, body});
  EXPECT_TRUE(r.has_value()) << method << " " << url << ": " << r.error().message();
  return r.has_value() ? *r : net::HttpResponse{};
}

std::string SourceDigest(const std::string& pg_url, const std::string& table,
                         const std::string& where) {
  PgClient client(pg_url);
  EXPECT_TRUE(client.ok()) << client.error();
  auto rows = client.Query(std::string(kDigest) + table + " " + where);
  std::string out;
  for (const auto& cell : rows.empty() ? CsvRow{} : rows[0]) {
    out += (out.empty() ? "" : ",") + cell.value_or("");
  }
  return out;
}

namespace {
// DuckDB's one result row as "a,b,c".
std::string DuckRow(const std::string& tools, const std::string& sql) {
  CommandResult r = DuckDbQuery(tools, sql);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string out = r.out;
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](char c) { return c == '[' || c == ']' || c == '"' || c == '\n'; }),
            out.end());
  return out;
}
}  // namespace

std::string DuckDigest(const std::string& tools, const std::string& from) {
  return DuckRow(tools, std::string(kDigest) + from);
}

std::string IdTotals(const std::string& tools, const std::string& glob) {
  return DuckRow(tools,
                 "SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id IS NULL), "
                 "sum(id) FROM read_parquet('" +
                     glob + "')");
}

std::string QuotedList(const std::vector<std::string>& paths) {
  std::string list;
  for (const std::string& p : paths) list += (list.empty() ? "'" : ", '") + p + "'";
  return list;
}

std::vector<state::FileRecord> ManifestIn(const std::string& dir) {
  auto store = state::StateStore::Open(dir + "/.rivet_state.db");
  EXPECT_TRUE(store.has_value());
  if (!store.has_value()) return {};
  auto files = store->ListFiles(std::nullopt, 1000);
  EXPECT_TRUE(files.has_value());
  return files.has_value() ? *files : std::vector<state::FileRecord>{};
}

std::optional<std::string> CursorIn(const std::string& dir, const std::string& export_name) {
  auto store = state::StateStore::Open(dir + "/.rivet_state.db");
  EXPECT_TRUE(store.has_value());
  if (!store.has_value()) return std::nullopt;
  auto cursor = store->GetCursor(export_name);
  EXPECT_TRUE(cursor.has_value());
  if (!cursor.has_value() || !cursor->has_value()) return std::nullopt;
  return (*cursor)->last_cursor;
}

std::optional<int> PeakRssMb(const std::string& summary) {
  std::smatch rss;
  if (!std::regex_search(summary, rss, std::regex("peak RSS: +([0-9]+)MB"))) return std::nullopt;
  return std::stoi(rss[1]);
}

std::string WideTableSql(const std::string& table, int rows) {
  return "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table +
         " AS SELECT g AS id, md5(g::text) AS v, repeat(md5((g * 7)::text), 2) AS w, "
         "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' AS seen_at "
         "FROM generate_series(1, " +
         std::to_string(rows) + ") g";
}

WatchedRun RunWatching(const std::string& dir, const std::function<CommandResult()>& run) {
  LargestFileWatcher watcher(dir);
  WatchedRun out;
  out.result = run();
  out.largest_local_file = watcher.Stop();
  out.peak_rss_mb = PeakRssMb(out.result.err);
  return out;
}

LargestFileWatcher::LargestFileWatcher(std::string dir) : dir_(std::move(dir)) {
  thread_ = std::thread([this] {
    while (!done_) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(dir_, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code size_ec;
        const uintmax_t size = it->is_regular_file(size_ec) ? it->file_size(size_ec) : 0;
        if (!size_ec && size > largest_) largest_ = size;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

LargestFileWatcher::~LargestFileWatcher() { (void)Stop(); }

uintmax_t LargestFileWatcher::Stop() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
  return largest_;
}

}  // namespace rivet::testing
