#include "rivet/cli/state_commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "rivet/common/bytes.h"
#include "rivet/common/error.h"

namespace rivet::cli {

namespace {

constexpr int kOk = static_cast<int>(ExitCode::kSuccess);
constexpr int kUsage = static_cast<int>(ExitCode::kUsage);
constexpr int64_t kMiB = 1024 * 1024;
// Dash rule widths of reference §3.
constexpr size_t kMetricsRuleWidth = 110;
constexpr size_t kCursorsRuleWidth = 90;

int ReportError(const Status& status, std::ostream& err) {
  err << "error: " << status.message() << '\n';
  return static_cast<int>(ExitCodeFor(status.code()));
}

int ReportUsage(std::string_view message, std::ostream& err) {
  err << "error: " << message << '\n';
  return kUsage;
}

std::string KnownExports(const config::Config& config) {
  std::vector<std::string_view> names;
  names.reserve(config.exports.size());
  for (const auto& e : config.exports) names.push_back(e.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// The export named by -e, which must exist in the config: resetting a typo must not silently
// succeed. Returns the exit code to stop with, or nullopt when the name is valid.
std::optional<int> CheckExportName(const config::Config& config,
                                   const std::optional<std::string>& export_name,
                                   std::string_view command, std::ostream& err) {
  if (!export_name) {
    return ReportUsage(fmt::format("rivet state {} needs --export NAME (known exports: {})",
                                   command, KnownExports(config)),
                       err);
  }
  for (const auto& e : config.exports) {
    if (e.name == *export_name) return std::nullopt;
  }
  const std::string file = config.path.empty() ? "the config" : config.path;
  return ReportUsage(fmt::format("export '{}' is not defined in {}; known exports: {}",
                                 *export_name, file, KnownExports(config)),
                     err);
}

std::optional<int> CheckLimit(int64_t limit, std::ostream& err) {
  if (limit < 1) return ReportUsage(fmt::format("--last must be at least 1 (got {})", limit), err);
  return std::nullopt;
}

std::string FormatRss(int64_t bytes) {
  return fmt::format("{}MB", std::max<int64_t>(bytes, 0) / kMiB);
}

std::string FormatSize(int64_t bytes) {
  return FormatBytes(static_cast<uint64_t>(std::max<int64_t>(bytes, 0)));
}

// Later lines of a multi-line message line up under the first.
std::string IndentContinuation(std::string_view text, std::string_view indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

// Columns as wide as their widest cell, two spaces apart; numbers right-aligned. `notes` are
// printed, indented, under their row (a chunk's last error).
struct Column {
  std::string_view header;
  bool right_aligned;
};

template <size_t N>
void PrintTable(const std::array<Column, N>& columns,
                const std::vector<std::array<std::string, N>>& cells,
                const std::vector<std::optional<std::string>>& notes, std::ostream& out) {
  std::array<size_t, N> widths{};
  for (size_t c = 0; c < N; ++c) {
    widths[c] = columns[c].header.size();
    for (const auto& row : cells) widths[c] = std::max(widths[c], row[c].size());
  }
  const auto print_row = [&](const auto& row) {
    std::string line;
    for (size_t c = 0; c < N; ++c) {
      if (c > 0) line += "  ";
      const std::string_view cell = row[c];
      if (columns[c].right_aligned) {
        line += fmt::format("{:>{}}", cell, widths[c]);
      } else if (c + 1 == N) {
        line += cell;  // no trailing spaces
      } else {
        line += fmt::format("{:<{}}", cell, widths[c]);
      }
    }
    out << line << '\n';
  };
  std::array<std::string_view, N> headers{};
  for (size_t c = 0; c < N; ++c) headers[c] = columns[c].header;
  print_row(headers);
  for (size_t r = 0; r < cells.size(); ++r) {
    print_row(cells[r]);
    if (r < notes.size() && notes[r]) {
      out << "  error: " << IndentContinuation(*notes[r], "         ") << '\n';
    }
  }
}

// The state store's PostgreSQL URLs; anything else is refused rather than guessed at.
bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

}  // namespace

std::string StateDbPath(const config::Config& config) {
  std::filesystem::path dir = config.directory.empty() ? "." : config.directory;
  return (dir / state::kStateFileName).string();
}

Result<state::StateLocation> StateLocationFor(const config::Config& config) {
  state::StateLocation location;
  location.sqlite_path = StateDbPath(config);
  if (config.state) {
    location.postgres_url = config.state->url.reveal();
    return location;
  }
  const char* env = std::getenv(kStateUrlVariable);
  if (env == nullptr || *env == '\0') return location;
  const std::string_view url = env;
  if (!IsPostgresUrl(url)) {
    return Error(ErrorCode::kConfig,
                 "{} must be a postgresql:// URL (the state store is SQLite next to the config, "
                 "or PostgreSQL); unset it to keep {}",
                 kStateUrlVariable, location.sqlite_path);
  }
  location.postgres_url = env;
  return location;
}

std::string DescribeLocation(const state::StateLocation& location) {
  if (location.postgres_url.empty()) return location.sqlite_path;
  return "PostgreSQL " + state::DescribePostgresUrl(location.postgres_url);
}

Result<std::optional<state::StateStore>> OpenExistingState(const config::Config& config) {
  RIVET_ASSIGN_OR_RETURN(state::StateLocation location, StateLocationFor(config));
  if (!location.postgres_url.empty()) {
    RIVET_ASSIGN_OR_RETURN(auto store, state::OpenStateStore(location));
    return std::optional<state::StateStore>(std::move(store));
  }
  const std::string path = location.sqlite_path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return Error(ErrorCode::kIo, "cannot access state database {}: {}", path, ec.message());
    return std::optional<state::StateStore>();
  }
  RIVET_ASSIGN_OR_RETURN(auto store, state::StateStore::Open(path));
  return std::optional<state::StateStore>(std::move(store));
}

void RenderMetrics(const std::vector<state::RunRecord>& runs, std::ostream& out) {
  if (runs.empty()) {
    out << "No metrics recorded yet.\n";
    return;
  }
  constexpr std::string_view kRow = "{:<20} {:<10} {:>10} {:>10} {:>8} {:>6} {:>10} {}\n";
  out << fmt::format(kRow, "EXPORT", "STATUS", "ROWS", "DURATION", "RSS", "FILES", "BYTES",
                     "RUN ID");
  out << std::string(kMetricsRuleWidth, '-') << '\n';
  for (const auto& run : runs) {
    const std::string bytes = run.files == 0 ? "-" : FormatSize(run.bytes);
    out << fmt::format(kRow, run.export_name, state::ToString(run.status), run.rows,
                       FormatDuration(run.duration_ms), FormatRss(run.peak_rss_bytes), run.files,
                       bytes, run.run_id);
    if (run.status == state::RunStatus::kFailed && run.error_message) {
      out << "  Error: " << IndentContinuation(*run.error_message, "         ") << '\n';
    }
  }
}

void RenderCursors(const std::vector<state::CursorState>& cursors, std::ostream& out) {
  if (cursors.empty()) {
    out << "No export state recorded yet.\n";
    return;
  }
  constexpr std::string_view kRow = "{:<30} {:<40} {}\n";
  out << fmt::format(kRow, "EXPORT", "LAST CURSOR", "LAST RUN");
  out << std::string(kCursorsRuleWidth, '-') << '\n';
  for (const auto& cursor : cursors) {
    out << fmt::format(kRow, cursor.export_name, cursor.last_cursor, cursor.updated_at);
  }
}

void RenderFiles(const std::vector<state::FileRecord>& files, std::ostream& out) {
  if (files.empty()) {
    out << "No files recorded yet.\n";
    return;
  }
  constexpr std::array<Column, 5> kColumns = {{
      {"RUN ID", false},
      {"FILE", false},
      {"ROWS", true},
      {"BYTES", true},
      {"CREATED", false},
  }};
  std::vector<std::array<std::string, kColumns.size()>> cells;
  cells.reserve(files.size());
  for (const auto& file : files) {
    cells.push_back({file.run_id, file.file_name, fmt::format("{}", file.rows),
                     FormatSize(file.bytes), file.created_at});
  }
  PrintTable(kColumns, cells, {}, out);
}

void RenderChunkPlan(const state::ChunkPlan& plan, const std::string& database, std::ostream& out) {
  const auto header = [&out](std::string_view key, std::string_view value) {
    out << fmt::format("{:<12}{}\n", fmt::format("{}:", key), value);
  };
  header("database", database);
  header("export", plan.export_name);
  header("run_id", plan.run_id);
  header("plan_hash", plan.plan_hash);
  header("status", state::ToString(plan.status));
  header("updated_at", plan.updated_at);
  out << '\n';
  constexpr std::array<Column, 7> kColumns = {{
      {"IDX", true},
      {"STATUS", false},
      {"START", true},
      {"END", true},
      {"ATT", true},
      {"ROWS", true},
      {"FILE", false},
  }};
  std::vector<std::array<std::string, kColumns.size()>> cells;
  std::vector<std::optional<std::string>> errors;
  for (const state::ChunkTask& t : plan.tasks) {
    cells.push_back({fmt::format("{}", t.idx), std::string(state::ToString(t.status)), t.start_key,
                     t.end_key, fmt::format("{}", t.attempts), fmt::format("{}", t.rows),
                     t.file_name.value_or("-")});
    errors.push_back(t.last_error);
  }
  PrintTable(kColumns, cells, errors, out);
}

int RunMetricsCommand(const config::Config& config, const std::optional<std::string>& export_name,
                      int64_t limit, std::ostream& out, std::ostream& err) {
  if (auto code = CheckLimit(limit, err)) return *code;
  auto store = OpenExistingState(config);
  if (!store) return ReportError(store.error(), err);
  std::vector<state::RunRecord> runs;
  if (store->has_value()) {
    auto listed = (*store)->ListRuns(export_name, limit);
    if (!listed) return ReportError(listed.error(), err);
    runs = std::move(*listed);
  }
  RenderMetrics(runs, out);
  return kOk;
}

int RunStateShowCommand(const config::Config& config, const std::optional<std::string>& export_name,
                        std::ostream& out, std::ostream& err) {
  auto store = OpenExistingState(config);
  if (!store) return ReportError(store.error(), err);
  std::vector<state::CursorState> cursors;
  if (store->has_value()) {
    auto listed = (*store)->ListCursors();
    if (!listed) return ReportError(listed.error(), err);
    for (auto& cursor : *listed) {
      if (!export_name || cursor.export_name == *export_name) cursors.push_back(std::move(cursor));
    }
  }
  RenderCursors(cursors, out);
  return kOk;
}

int RunStateFilesCommand(const config::Config& config,
                         const std::optional<std::string>& export_name, int64_t limit,
                         std::ostream& out, std::ostream& err) {
  if (auto code = CheckLimit(limit, err)) return *code;
  auto store = OpenExistingState(config);
  if (!store) return ReportError(store.error(), err);
  std::vector<state::FileRecord> files;
  if (store->has_value()) {
    auto listed = (*store)->ListFiles(export_name, limit);
    if (!listed) return ReportError(listed.error(), err);
    files = std::move(*listed);
  }
  RenderFiles(files, out);
  return kOk;
}

int RunStateResetCommand(const config::Config& config,
                         const std::optional<std::string>& export_name, std::ostream& out,
                         std::ostream& err) {
  if (auto code = CheckExportName(config, export_name, "reset", err)) return *code;
  auto store = OpenExistingState(config);
  if (!store) return ReportError(store.error(), err);
  if (!store->has_value()) {
    out << fmt::format("No state recorded for export '{}'; nothing to reset.\n", *export_name);
    return kOk;
  }
  auto cursor = (*store)->GetCursor(*export_name);
  if (!cursor) return ReportError(cursor.error(), err);
  auto removed = (*store)->ResetExport(*export_name);
  if (!removed) return ReportError(removed.error(), err);
  if (!*removed) {
    out << fmt::format("No state recorded for export '{}'; nothing to reset.\n", *export_name);
  } else if (cursor->has_value()) {
    out << fmt::format(
        "Reset export '{}': cursor cleared (was {} = {}); the next run exports from the "
        "beginning.\n",
        *export_name, (*cursor)->cursor_column, (*cursor)->last_cursor);
  } else {
    out << fmt::format(
        "Reset export '{}': chunk checkpoint plan removed; the next run starts clean.\n",
        *export_name);
  }
  return kOk;
}

int RunStateChunksCommand(const config::Config& config,
                          const std::optional<std::string>& export_name, std::ostream& out,
                          std::ostream& err) {
  if (auto code = CheckExportName(config, export_name, "chunks", err)) return *code;
  auto store = OpenExistingState(config);
  if (!store) return ReportError(store.error(), err);
  std::optional<state::ChunkPlan> plan;
  if (store->has_value()) {
    auto latest = (*store)->LatestChunkPlan(*export_name);
    if (!latest) return ReportError(latest.error(), err);
    plan = std::move(*latest);
  }
  if (!plan) {
    out << fmt::format("No chunk checkpoint data for export '{}'.\n", *export_name);
    return kOk;
  }
  auto location = StateLocationFor(config);
  RenderChunkPlan(*plan, location.has_value() ? DescribeLocation(*location) : StateDbPath(config),
                  out);
  return kOk;
}

int RunStateResetChunksCommand(const config::Config& config,
                               const std::optional<std::string>& export_name, std::ostream& out,
                               std::ostream& err) {
  if (auto code = CheckExportName(config, export_name, "reset-chunks", err)) return *code;
  auto store = OpenExistingState(config);
  if (!store) return ReportError(store.error(), err);
  bool removed = false;
  if (store->has_value()) {
    auto result = (*store)->ResetChunks(*export_name);
    if (!result) return ReportError(result.error(), err);
    removed = *result;
  }
  if (!removed) {
    out << fmt::format("No chunk checkpoint data for export '{}'.\n", *export_name);
  } else {
    out << fmt::format(
        "Removed the chunk checkpoint plan of export '{}'; the next run starts clean.\n",
        *export_name);
  }
  return kOk;
}

int RunStateMigrateCommand(const config::Config& config, const std::string& to_url,
                           std::ostream& out, std::ostream& err) {
  if (!IsPostgresUrl(to_url)) {
    return ReportUsage(
        "rivet state migrate --to needs a postgresql:// URL (the store to copy "
        "the SQLite state into)",
        err);
  }
  const std::string path = StateDbPath(config);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return ReportUsage(fmt::format("no SQLite state to migrate: {} does not exist", path), err);
  }
  auto from = state::StateStore::Open(path);
  if (!from) return ReportError(from.error(), err);
  state::StateLocation target;
  target.postgres_url = to_url;
  auto to = state::OpenStateStore(target);
  if (!to) return ReportError(to.error(), err);
  auto copied = from->CopyInto(*to);
  if (!copied) return ReportError(copied.error(), err);
  out << fmt::format(
      "Copied {} into PostgreSQL {}: {} runs, {} files, {} cursors, {} schema history entries, "
      "{} chunk plans ({} chunks).\nSet RIVET_STATE_URL (or state: {{url_env: ...}}) to use "
      "it; {} is left as it was.\n",
      path, state::DescribePostgresUrl(to_url), copied->runs, copied->files, copied->cursors,
      copied->schemas, copied->plans, copied->chunks, path);
  return kOk;
}

}  // namespace rivet::cli
