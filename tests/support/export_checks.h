// What the end-to-end tests of object-store destinations (s3_test, gcs_test) check after a run
// of the rivet binary: the source's digest against the digest of what came back (read by
// DuckDB), the state DB's manifest and cursors, the run summary's peak RSS, and the largest file
// that appeared in the run's local folder while it ran.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rivet/net/http_client.h"
#include "rivet/state/state.h"
#include "support/test_env.h"

namespace rivet::testing {

// "t-{test name}-{pid}/": the object prefix of the running test, its own in a shared bucket.
std::string TestObjectPrefix();

// One plain request (no signature, no token), e.g. to a test server's control paths; a
// transport failure fails the test and gives an empty response.
net::HttpResponse SendPlain(const std::string& method, const std::string& url,
                            const std::string& body = "");

// "count,sum(id),md5 of v in id order" of PostgreSQL table `table` (rows matching `where`,
// e.g. "WHERE id > 10"), and the same of DuckDB table expression `from`
// ("read_csv(['/a.csv', '/b.csv'])"); `tools` is RIVET_TEST_TOOLS.
std::string SourceDigest(const std::string& pg_url, const std::string& table,
                         const std::string& where = "");
std::string DuckDigest(const std::string& tools, const std::string& from);
// "rows,distinct ids,NULL ids,sum(id)" of the Parquet files matching `glob`, read by DuckDB: the
// check that a chunked export delivered every row of an id column exactly once.
std::string IdTotals(const std::string& tools, const std::string& glob);
// "'a', 'b'": paths for a DuckDB list.
std::string QuotedList(const std::vector<std::string>& paths);

// The files recorded by the state DB of the run in `dir` (.rivet_state.db there).
std::vector<state::FileRecord> ManifestIn(const std::string& dir);
// The incremental cursor of `export_name` in that state DB; nullopt when none was stored.
std::optional<std::string> CursorIn(const std::string& dir, const std::string& export_name);

// The "peak RSS: N MB" of a run's summary; nullopt when it has none.
std::optional<int> PeakRssMb(const std::string& summary);

// SQL that replaces `table` by `rows` rows (id, v, w, seen_at) of ~130 bytes of CSV each, for
// exports of hundreds of MB.
std::string WideTableSql(const std::string& table, int rows);

// Watches `dir` (recursively) from construction to Stop(), which gives the size of the largest
// regular file seen in it.
class LargestFileWatcher {
 public:
  explicit LargestFileWatcher(std::string dir);
  ~LargestFileWatcher();
  LargestFileWatcher(const LargestFileWatcher&) = delete;
  LargestFileWatcher& operator=(const LargestFileWatcher&) = delete;
  uintmax_t Stop();

 private:
  std::string dir_;
  std::atomic<bool> done_ = false;
  std::atomic<uintmax_t> largest_ = 0;
  std::thread thread_;
};

// What `run` (a run of rivet, its summary on stderr) gave, the largest file that appeared in
// `dir` meanwhile and the summary's peak RSS.
struct WatchedRun {
  CommandResult result;
  uintmax_t largest_local_file = 0;
  std::optional<int> peak_rss_mb;
};
WatchedRun RunWatching(const std::string& dir, const std::function<CommandResult()>& run);

}  // namespace rivet::testing
