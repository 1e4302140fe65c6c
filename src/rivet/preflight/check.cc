#include "rivet/preflight/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rivet/columnar/types.h"
#include "rivet/common/bytes.h"
#include "rivet/common/text.h"
#include "rivet/pipeline/pipeline.h"
#include "rivet/pipeline/unit_runner.h"
#include "rivet/plan/cursor.h"
#include "rivet/plan/plan.h"
#include "rivet/plan/sql.h"
#include "rivet/preflight/session.h"
#include "rivet/quality/gate.h"

namespace rivet::preflight {
namespace {

using config::Mode;

bool IsPostgres(const config::Config& c) { return c.source.type == config::SourceType::kPostgres; }

// The column whose index matters for the mode ("" for full).
const std::string& KeyColumn(const config::ExportConfig& e) {
  static const std::string kNone;
  switch (e.mode) {
    case Mode::kIncremental:
      return e.cursor_column;
    case Mode::kChunked:
      return e.chunk_column;
    case Mode::kTimeWindow:
      return e.time_column;
    case Mode::kFull:
      break;
  }
  return kNone;
}

bool HasCursor(const config::ExportConfig& e) {
  return e.mode == Mode::kIncremental || e.mode == Mode::kChunked;
}

std::string StrategyText(const config::ExportConfig& e) {
  switch (e.mode) {
    case Mode::kFull:
      return "full-scan";
    case Mode::kIncremental:
      return fmt::format("incremental({})", e.cursor_column);
    case Mode::kChunked:
      if (e.parallel > 1) {
        return fmt::format("chunked-parallel({}, size={}, p={})", e.chunk_column, e.chunk_size,
                           e.parallel);
      }
      return fmt::format("chunked({}, size={})", e.chunk_column, e.chunk_size);
    case Mode::kTimeWindow:
      return fmt::format("time-window({}, {}d)", e.time_column, e.days_window);
  }
  return "";
}

std::string ModeText(const config::ExportConfig& e) {
  switch (e.mode) {
    case Mode::kFull:
      return "full";
    case Mode::kIncremental:
      return fmt::format("incremental (cursor: {})", e.cursor_column);
    case Mode::kChunked:
      return fmt::format("chunked (column: {}, size: {})", e.chunk_column, e.chunk_size);
    case Mode::kTimeWindow:
      return fmt::format("time_window (column: {}, days: {})", e.time_column, e.days_window);
  }
  return "";
}

// The first window [min, min + size - 1] clamped to max, without overflow.
plan::ChunkWindow FirstWindow(int64_t min, int64_t max, int64_t size) {
  const __int128 hi = static_cast<__int128>(min) + size - 1;
  return {min, hi > max ? max : static_cast<int64_t>(hi)};
}

std::string MemoryWarning(double row_bytes, int64_t batch_rows, int64_t readers, int64_t total) {
  return fmt::format(
      "Memory risk: ~{:.0f} B per row x {} rows per batch x {} batches in flight x {} "
      "reader(s) = {}, above the {} flat-memory budget; lower batch_size or set "
      "batch_size_memory_mb",
      row_bytes, batch_rows, kBatchesInFlight, readers, FormatBytes(static_cast<uint64_t>(total)),
      FormatBytes(static_cast<uint64_t>(kMemoryBudgetBytes)));
}

// Everything after the result's columns are known, inside the read-only transaction.
Status JudgePlans(const config::Config& config, const config::ExportConfig& e, source::Source& src,
                  const CheckInputs& inputs, const columnar::Schema& schema, CheckReport& r) {
  const bool postgres = IsPostgres(config);
  const plan::Dialect d = pipeline::DialectOf(config, src);
  const std::string& key = KeyColumn(e);
  std::optional<plan::ChunkWindow> range;
  if (HasCursor(e)) {
    const std::string min_max = plan::MinMaxQuery(d, e.query, key);
    RIVET_ASSIGN_OR_RETURN(PlanFacts min_max_plan, Explain(src, postgres, min_max));
    r.key_indexed = min_max_plan.index_used;
    if (min_max_plan.index_used) {
      RIVET_ASSIGN_OR_RETURN(auto rows, src.QueryText(min_max));
      if (rows.empty() || rows[0].size() < 2 || !rows[0][0] || !rows[0][1]) {
        r.key_range = "empty (no non-NULL values)";
      } else {
        r.key_range = fmt::format("{} .. {}", *rows[0][0], *rows[0][1]);
        if (e.mode == Mode::kChunked) {
          RIVET_ASSIGN_OR_RETURN(int64_t lo, plan::ParseChunkKey(e.name, key, *rows[0][0]));
          RIVET_ASSIGN_OR_RETURN(int64_t hi, plan::ParseChunkKey(e.name, key, *rows[0][1]));
          range = plan::ChunkWindow{lo, hi};
        }
      }
    } else {
      r.key_range = fmt::format("skipped (no index on '{}': MIN/MAX would scan the table)", key);
      r.warnings.push_back(fmt::format(
          "Unindexed {} column '{}': MIN/MAX and every {} scan the whole table; create an index "
          "on '{}'",
          e.mode == Mode::kChunked ? "chunk" : "cursor", key,
          e.mode == Mode::kChunked ? "chunk" : "run", key));
    }
  }

  // The statement the run sends first; chunked runs also read the whole query in windows.
  switch (e.mode) {
    case Mode::kFull:
      r.explained_sql = std::string(plan::StripQuery(e.query));
      break;
    case Mode::kIncremental: {
      RIVET_ASSIGN_OR_RETURN(r.explained_sql, plan::IncrementalQuery(d, e.query, e.cursor_column,
                                                                     inputs.stored_cursor));
      break;
    }
    case Mode::kTimeWindow: {
      RIVET_ASSIGN_OR_RETURN(r.explained_sql,
                             plan::TimeWindowQuery(d, e.query, e.time_column, e.time_column_type,
                                                   e.days_window, inputs.now));
      break;
    }
    case Mode::kChunked: {
      // Without MIN (not indexed, or no rows) the first window's bounds are unknown; a window
      // from 0 has the same plan shape.
      const plan::ChunkWindow first = range ? FirstWindow(range->lo, range->hi, e.chunk_size)
                                            : plan::ChunkWindow{0, e.chunk_size - 1};
      r.explained_sql = plan::ChunkQuery(d, e.query, e.chunk_column, first.lo, first.hi);
      break;
    }
  }
  RIVET_ASSIGN_OR_RETURN(r.plan, Explain(src, postgres, r.explained_sql));
  r.rows = r.plan.rows;
  double width = r.plan.width;
  if (e.mode == Mode::kChunked) {
    RIVET_ASSIGN_OR_RETURN(PlanFacts whole, Explain(src, postgres, e.query));
    r.rows = whole.rows;
    width = whole.width;
  }

  // A first incremental run reads everything in cursor order, which a planner may do with a
  // sort; the later runs' "cursor > last" uses the key's index, which MIN/MAX has shown.
  r.index_used = r.plan.index_used || (HasCursor(e) && r.key_indexed.value_or(false));
  const Judged j{r.rows, r.index_used, HasCursor(e)};
  r.verdict = JudgeVerdict(j);
  r.profile = RecommendProfile(j);
  r.parallelism = RecommendParallelism(j, e.mode);
  r.suggestion = Suggestion(r.verdict, j, e.mode, key);

  if (range && SparseKeyRange(r.rows, range->lo, range->hi, e.chunk_size)) {
    const double span = static_cast<double>(range->hi) - static_cast<double>(range->lo) + 1;
    r.warnings.push_back(fmt::format(
        "Sparse key range: {} rows over {:.0f} keys of '{}' ({:.1f}% dense): most chunk windows "
        "will be empty; use ROW_NUMBER() OVER (ORDER BY {}) as a dense chunk column, or a "
        "larger chunk_size",
        FormatEstimate(r.rows), span, key, 100.0 * r.rows / span, key));
  }
  const double row_bytes =
      width > 0 ? width : static_cast<double>(columnar::EstimatedRowBytes(schema));
  const int64_t batch_rows = source::RowsPerBatch(pipeline::ReadOptionsFor(e.tuning), schema);
  const int64_t readers = e.mode == Mode::kChunked ? e.parallel : 1;
  const int64_t memory = BatchMemoryBytes(row_bytes, batch_rows, readers);
  if (memory > kMemoryBudgetBytes) {
    r.warnings.push_back(MemoryWarning(row_bytes, batch_rows, readers, memory));
  }
  return Status::Ok();
}

Status Judge(const config::Config& config, const config::ExportConfig& e, source::Source& src,
             const CheckInputs& inputs, CheckReport& r) {
  // The result's columns, as the run would see them, without a row read.
  columnar::SchemaPtr schema;
  {
    RIVET_ASSIGN_OR_RETURN(auto stream, src.Stream(plan::DescribeQuery(e.query)));
    schema = stream->schema();
  }
  RIVET_RETURN_IF_ERROR(plan::CheckKeyColumns(*schema, e.name,
                                              e.mode == Mode::kIncremental ? e.cursor_column : "",
                                              e.mode == Mode::kChunked ? e.chunk_column : "")
                            .status());
  // The columns quality gates name must be in the result: the run would refuse them too.
  if (e.quality.configured()) {
    RIVET_RETURN_IF_ERROR(quality::Gate(e.quality, e.name, 1).Bind(*schema));
  }
  return src.InReadOnlyTransaction([&] { return JudgePlans(config, e, src, inputs, *schema, r); });
}

Result<int64_t> ParseCount(const std::optional<std::string>& text, std::string_view what) {
  if (!text) return Error(ErrorCode::kSource, "the server returned no {}", what);
  const std::optional<int64_t> v = ParseWhole<int64_t>(*text);
  if (!v) return Error(ErrorCode::kSource, "the server's {} is not a number: '{}'", what, *text);
  return *v;
}

}  // namespace

CheckReport CheckExport(const config::Config& config, const config::ExportConfig& e,
                        source::Source& src, const CheckInputs& inputs) {
  CheckReport r;
  r.export_name = e.name;
  r.strategy = StrategyText(e);
  r.mode = ModeText(e);
  r.connections = ConnectionsFor(e);
  r.error = Judge(config, e, src, inputs, r);
  return r;
}

Result<ServerConnections> ReadConnections(source::Source& src, config::SourceType type) {
  ServerConnections c;
  if (type == config::SourceType::kPostgres) {
    RIVET_ASSIGN_OR_RETURN(auto rows,
                           src.QueryText("SELECT current_setting('max_connections'), "
                                         "current_setting('superuser_reserved_connections'), "
                                         "(SELECT count(*) FROM pg_stat_activity "
                                         "WHERE backend_type = 'client backend')"));
    if (rows.size() != 1 || rows[0].size() != 3) {
      return Error(ErrorCode::kSource, "unexpected answer to the connection query");
    }
    RIVET_ASSIGN_OR_RETURN(c.max_connections, ParseCount(rows[0][0], "max_connections"));
    RIVET_ASSIGN_OR_RETURN(c.reserved, ParseCount(rows[0][1], "superuser_reserved_connections"));
    RIVET_ASSIGN_OR_RETURN(c.in_use, ParseCount(rows[0][2], "connection count"));
    return c;
  }
  RIVET_ASSIGN_OR_RETURN(auto max, src.QueryText("SELECT @@GLOBAL.max_connections"));
  RIVET_ASSIGN_OR_RETURN(auto used, src.QueryText("SHOW GLOBAL STATUS LIKE 'Threads_connected'"));
  if (max.size() != 1 || max[0].empty() || used.size() != 1 || used[0].size() != 2) {
    return Error(ErrorCode::kSource, "unexpected answer to the connection query");
  }
  RIVET_ASSIGN_OR_RETURN(c.max_connections, ParseCount(max[0][0], "max_connections"));
  RIVET_ASSIGN_OR_RETURN(c.in_use, ParseCount(used[0][1], "Threads_connected"));
  return c;
}

int64_t ConnectionsFor(const config::ExportConfig& e) {
  return e.mode == Mode::kChunked ? e.parallel + 1 : 1;
}

std::optional<std::string> ParallelConnectionWarning(
    const std::vector<const config::ExportConfig*>& exports, const ServerConnections& server) {
  int64_t need = 0;
  for (const config::ExportConfig* e : exports) need += ConnectionsFor(*e);
  const int64_t free = server.free() + 1;
  if (need <= free) return std::nullopt;
  return fmt::format(
      "parallel exports open {} connections at once ({} exports; chunked ones hold parallel + "
      "1) but the server has {} free (max_connections={}, {} reserved, {} in use by others); "
      "lower parallel, run the exports without the parallel switch, or raise max_connections",
      need, exports.size(), std::max<int64_t>(free, 0), server.max_connections, server.reserved,
      server.in_use - 1);
}

void WarnAboutConnections(const config::Config& config, const ServerConnections& server,
                          std::vector<CheckReport>& reports) {
  const bool together = config.parallel_exports || config.parallel_export_processes;
  int64_t all = 0;
  for (const CheckReport& r : reports)
    all = together ? all + r.connections : std::max(all, r.connections);
  const int64_t free = server.free() + 1;  // check's own connection is gone by then
  for (CheckReport& r : reports) {
    if (!r.error.ok()) continue;
    const int64_t need = together ? all : r.connections;
    if (need <= free) continue;
    std::string what =
        together ? "all exports at once (parallel_exports)"
        : r.connections > 1
            ? fmt::format("parallel {} + 1 for MIN/MAX and the snapshot", r.connections - 1)
            : "one connection";
    r.warnings.push_back(fmt::format(
        "Connection limit: the run opens {} connections ({}) but the server has {} free "
        "(max_connections={}, {} reserved, {} in use by others); lower parallel or raise "
        "max_connections",
        need, what, std::max<int64_t>(free, 0), server.max_connections, server.reserved,
        server.in_use - 1));
  }
}

std::string FormatCheck(const CheckReport& r) {
  std::string out = fmt::format("Export: {}\n", r.export_name);
  auto line = [&out](std::string_view label, std::string_view value) {
    out += fmt::format("  {:<14}{}\n", label, value);
  };
  if (!r.error.ok()) {
    line("Error:", r.error.message());
    return out;
  }
  line("Strategy:", r.strategy);
  line("Mode:", r.mode);
  line("Row estimate:", FormatEstimate(r.rows));
  if (r.key_range) line("Cursor range:", *r.key_range);
  line("Scan type:", r.plan.scan);
  line("Verdict:", ToString(r.verdict));
  line("Recommended:", fmt::format("tuning.profile: {}", config::ToString(r.profile)));
  if (r.parallelism.value > 1) {
    line("Recommended:",
         fmt::format("parallel: {} ({})", r.parallelism.value, r.parallelism.reason));
  } else {
    line("Parallelism:", fmt::format("{} ({})", r.parallelism.value, r.parallelism.reason));
  }
  for (const std::string& w : r.warnings) line("Warning:", w);
  line("Suggestion:", r.suggestion);
  return out;
}

std::string FormatCheckJson(const std::string& config_path,
                            const std::vector<CheckReport>& reports) {
  using nlohmann::json;
  json exports = json::array();
  bool ok = true;
  for (const CheckReport& r : reports) {
    json x = {{"export", r.export_name}, {"strategy", r.strategy}, {"mode", r.mode}};
    if (!r.error.ok()) {
      ok = false;
      x["error"] = r.error.message();
      x["error_class"] = std::string(ErrorCodeName(r.error.code()));
      exports.push_back(std::move(x));
      continue;
    }
    x["row_estimate"] = static_cast<int64_t>(r.rows + 0.5);
    x["row_estimate_text"] = FormatEstimate(r.rows);
    x["cursor_range"] = r.key_range ? json(*r.key_range) : json(nullptr);
    x["key_indexed"] = r.key_indexed ? json(*r.key_indexed) : json(nullptr);
    x["scan_type"] = r.plan.scan;
    x["index_used"] = r.index_used;
    x["explained_sql"] = r.explained_sql;
    x["verdict"] = std::string(ToString(r.verdict));
    x["recommended_profile"] = std::string(config::ToString(r.profile));
    x["parallelism"] = {{"value", r.parallelism.value}, {"reason", r.parallelism.reason}};
    x["connections"] = r.connections;
    x["warnings"] = r.warnings;
    x["suggestion"] = r.suggestion;
    exports.push_back(std::move(x));
  }
  json doc = {{"config", config_path}, {"ok", ok}, {"exports", std::move(exports)}};
  return doc.dump(2) + "\n";
}

}  // namespace rivet::preflight
