// `rivet check` and `rivet doctor` (reference §2, §3): the reports go to stdout, as text or
// as one JSON document with --json; logs and errors go to stderr.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "rivet/cli/commands.h"
#include "rivet/cli/state_commands.h"
#include "rivet/pipeline/unit_runner.h"
#include "rivet/preflight/check.h"
#include "rivet/preflight/doctor.h"

namespace rivet::cli {

namespace {

// The cursor the export's next run continues from, read without creating the state DB.
Result<std::optional<plan::CursorValue>> StoredCursor(std::optional<state::StateStore>& existing,
                                                      const config::ExportConfig& e) {
  if (!existing || e.mode != config::Mode::kIncremental) return std::optional<plan::CursorValue>();
  RIVET_ASSIGN_OR_RETURN(auto stored, existing->GetCursor(e.name));
  if (!stored) return std::optional<plan::CursorValue>();
  return std::optional<plan::CursorValue>(
      plan::CursorValue{plan::CursorKindFromString(stored->cursor_type), stored->last_cursor});
}

}  // namespace

int CheckCommand(const CheckFlags& flags) {
  auto loaded = LoadForCommand(flags.config_path, flags.params);
  if (!loaded.has_value()) return ReportError(loaded.error());
  const config::Config& config = loaded->config;
  auto selected = SelectExports(config, flags.export_name);
  if (!selected.has_value()) return ReportError(selected.error());
  auto state = OpenExistingState(config);
  if (!state.has_value()) return ReportError(state.error());

  std::vector<preflight::CheckReport> reports;
  std::optional<preflight::ServerConnections> server;
  for (const config::ExportConfig* e : *selected) {
    preflight::CheckInputs inputs;
    auto cursor = StoredCursor(*state, *e);
    // Each export on its own connection: its session runs with its own timeouts.
    auto src = source::MakeSource(config.source, pipeline::ReadOptionsFor(e->tuning));
    Status status = !cursor.has_value() ? cursor.error()
                    : src.has_value()   ? (*src)->Connect()
                                        : src.error();
    if (!status.ok()) {
      preflight::CheckReport failed;
      failed.export_name = e->name;
      failed.error = status;
      reports.push_back(std::move(failed));
      continue;
    }
    inputs.stored_cursor = *cursor;
    if (!server) {
      auto read = preflight::ReadConnections(**src, config.source.type);
      if (read.has_value()) {
        server = *read;
      } else {
        spdlog::warn("cannot read the server's connection limit: {}", read.error().message());
      }
    }
    reports.push_back(preflight::CheckExport(config, *e, **src, inputs));
  }
  if (server) preflight::WarnAboutConnections(config, *server, reports);

  std::string out;
  if (flags.json) {
    out = preflight::FormatCheckJson(config.path, reports);
  } else {
    for (size_t i = 0; i < reports.size(); ++i) {
      out += (i == 0 ? "" : "\n") + preflight::FormatCheck(reports[i]);
    }
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);

  ExitCode worst = ExitCode::kSuccess;
  for (const preflight::CheckReport& r : reports) {
    if (r.error.ok()) continue;
    spdlog::error("export '{}' could not be checked: {}", r.export_name, r.error.message());
    const ExitCode code = ExitCodeFor(r.error.code());
    if (Severity(code) > Severity(worst)) worst = code;
  }
  return static_cast<int>(worst);
}

int DoctorCommand(const DoctorFlags& flags) {
  auto loaded = LoadForCommand(flags.config_path, {});
  std::vector<preflight::DoctorCheck> checks;
  const Status config_error = loaded.status();
  if (loaded.has_value()) checks = preflight::RunDoctor(loaded->config, pipeline::Factories{});
  const std::string out = flags.json
                              ? preflight::FormatDoctorJson(flags.config_path, checks, config_error)
                              : preflight::FormatDoctor(flags.config_path, checks, config_error);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  if (!config_error.ok()) return static_cast<int>(ExitCodeFor(config_error.code()));
  return preflight::AllPassed(checks) ? 0 : static_cast<int>(ExitCode::kExportFailed);
}

}  // namespace rivet::cli
