// `rivet metrics` and `rivet state show|files|reset|chunks|reset-chunks` (reference §2, §3).
//
// Each Run*Command reads the state store next to the config (`<config dir>/.rivet_state.db`),
// prints its table or message to `out`, errors to `err`, and returns the process exit code:
// 0 on success, 2 for a usage error (unknown export, missing --export, --last below 1), or the
// code of the failure class when the store cannot be read. Listing commands never create the
// store: a missing file reads as an empty one.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "rivet/config/config.h"
#include "rivet/state/state.h"

namespace rivet::cli {

// Rows shown when --last is not given (reference §2).
inline constexpr int64_t kDefaultMetricsLimit = 20;
inline constexpr int64_t kDefaultFilesLimit = 50;

// `<config.directory>/.rivet_state.db`.
std::string StateDbPath(const config::Config& config);

// The variable that names a PostgreSQL state store when the config has no `state:` key.
inline constexpr const char* kStateUrlVariable = "RIVET_STATE_URL";

// Where the config's state lives: state.url_env, else RIVET_STATE_URL, else SQLite next to the
// config (reference §6). A RIVET_STATE_URL that is not a postgresql:// URL is an error.
Result<state::StateLocation> StateLocationFor(const config::Config& config);
// The store as `rivet state chunks` names it: the SQLite path, or "PostgreSQL host:port/db"
// (never the URL: its password is a secret).
std::string DescribeLocation(const state::StateLocation& location);

// Opens the store when its file exists (a PostgreSQL store always exists); nullopt when it does
// not, so that reading commands neither fail nor leave an empty database behind.
Result<std::optional<state::StateStore>> OpenExistingState(const config::Config& config);

// rivet metrics [-e NAME] [--last N]: runs, newest first.
int RunMetricsCommand(const config::Config& config, const std::optional<std::string>& export_name,
                      int64_t limit, std::ostream& out, std::ostream& err);
// rivet state show [-e NAME]: every stored cursor.
int RunStateShowCommand(const config::Config& config, const std::optional<std::string>& export_name,
                        std::ostream& out, std::ostream& err);
// rivet state files [-e NAME] [--last N]: the file manifest, newest first.
int RunStateFilesCommand(const config::Config& config,
                         const std::optional<std::string>& export_name, int64_t limit,
                         std::ostream& out, std::ostream& err);
// rivet state reset -e NAME: forgets the export's cursor and chunk plans.
int RunStateResetCommand(const config::Config& config,
                         const std::optional<std::string>& export_name, std::ostream& out,
                         std::ostream& err);
// rivet state chunks -e NAME: the export's newest chunk checkpoint plan.
int RunStateChunksCommand(const config::Config& config,
                          const std::optional<std::string>& export_name, std::ostream& out,
                          std::ostream& err);
// rivet state reset-chunks -e NAME: drops the export's chunk checkpoint plan.
int RunStateResetChunksCommand(const config::Config& config,
                               const std::optional<std::string>& export_name, std::ostream& out,
                               std::ostream& err);
// rivet state migrate --to URL: copies the SQLite state next to the config into the empty
// PostgreSQL store at `to_url`, once (the URL is a secret: only host, port and database are
// printed).
int RunStateMigrateCommand(const config::Config& config, const std::string& to_url,
                           std::ostream& out, std::ostream& err);

// The tables alone, exactly as reference §3 prints them (empty input prints the "No ... yet."
// line).
void RenderMetrics(const std::vector<state::RunRecord>& runs, std::ostream& out);
void RenderCursors(const std::vector<state::CursorState>& cursors, std::ostream& out);
void RenderFiles(const std::vector<state::FileRecord>& files, std::ostream& out);
// The header (database, export, run_id, plan_hash, status, updated_at), then one row per task
// and, under a task that failed, its last error.
void RenderChunkPlan(const state::ChunkPlan& plan, const std::string& database, std::ostream& out);

}  // namespace rivet::cli
