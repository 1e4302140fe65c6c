// `rivet check`: how hard each export will hit the source, judged from EXPLAIN of the exact SQL
// a run would send (reference §3), without reading table data.
//
// Per export, on a connection with the export's session settings (statement_timeout_s,
// lock_timeout_s, UTC):
//   1. the result's columns from the query with LIMIT 0 (no row read), so a missing table,
//      a syntax error or a wrong cursor/chunk column fails here as it would in the run;
//   2. inside a read-only transaction, EXPLAIN (never ANALYZE) of the run's SQL for its mode,
//      and for incremental and chunked exports EXPLAIN of the MIN/MAX of the key column, which
//      is run only when the plan answers it from an index;
//   3. the verdict, profile, parallelism and warnings of verdict.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rivet/common/clock.h"
#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/plan/sql.h"
#include "rivet/preflight/explain.h"
#include "rivet/preflight/verdict.h"
#include "rivet/source/source.h"

namespace rivet::preflight {

struct CheckReport {
  std::string export_name;
  std::string strategy;       // "chunked-parallel(id, size=100000, p=4)"
  std::string mode;           // "chunked (column: id, size: 100000)"
  std::string explained_sql;  // the statement whose plan gave `plan`
  PlanFacts plan;             // of that statement
  double rows = 0;            // rows the export reads (chunked: the whole query)
  bool index_used = false;    // what the verdict used
  // incremental and chunked: MIN/MAX of the key column, or why it was skipped.
  std::optional<std::string> key_range;
  std::optional<bool> key_indexed;
  Verdict verdict = Verdict::kUnsafe;
  config::Profile profile = config::Profile::kBalanced;
  Parallelism parallelism;
  std::vector<std::string> warnings;
  std::string suggestion;
  int64_t connections = 1;  // connections the run opens at once
  Status error;             // set when the export could not be judged
};

// The stored incremental cursor the next run would continue from (nullopt: first run).
struct CheckInputs {
  std::optional<plan::CursorValue> stored_cursor;
  SystemTime now = std::chrono::system_clock::now();
};

// Judges one export on `src` (connected, built with the export's read options). Errors (auth,
// syntax, missing table, a wrong key column) come back in CheckReport::error.
CheckReport CheckExport(const config::Config& config, const config::ExportConfig& e,
                        source::Source& src, const CheckInputs& inputs);

// The server's connection budget: max_connections less reserved slots and those in use.
struct ServerConnections {
  int64_t max_connections = 0;
  int64_t reserved = 0;  // PostgreSQL superuser_reserved_connections
  int64_t in_use = 0;    // including the one asking
  int64_t free() const { return max_connections - reserved - in_use; }
};
Result<ServerConnections> ReadConnections(source::Source& src, config::SourceType type);

// Connections one run of `e` holds at once: chunked exports `parallel` workers plus the
// coordinator (MIN/MAX, the shared snapshot); every other mode one.
int64_t ConnectionsFor(const config::ExportConfig& e);

// With parallel exports every export holds its connections at the same time: the warning
// `rivet run` logs when their sum exceeds the free connections (nullopt when it fits). The
// connection that read `server` is closed before the exports start, so it counts as free.
std::optional<std::string> ParallelConnectionWarning(
    const std::vector<const config::ExportConfig*>& exports, const ServerConnections& server);

// Adds the connection-limit warning to the reports whose run would not fit in the free
// connections (with parallel_exports, all exports' connections are summed). Check's own
// connection is closed before a run, so it counts as free.
void WarnAboutConnections(const config::Config& config, const ServerConnections& server,
                          std::vector<CheckReport>& reports);

// The block of reference §3 (ends with a newline), or "Export: x\n  Error: ..." .
std::string FormatCheck(const CheckReport& r);
// Every report as one JSON document (ends with a newline).
std::string FormatCheckJson(const std::string& config_path,
                            const std::vector<CheckReport>& reports);

}  // namespace rivet::preflight
