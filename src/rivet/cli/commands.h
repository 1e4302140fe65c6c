// The subcommands of the rivet binary; each lives in its own file and returns an exit code.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/loader.h"

namespace rivet::cli {

struct RunFlags {
  std::string config_path;
  std::optional<std::string> export_name;
  bool validate = false;
  bool resume = false;
  bool parallel_exports = false;
  bool parallel_export_processes = false;
  std::vector<std::string> params;   // KEY=VALUE
  std::optional<std::string> shard;  // --shard i/N | N
  bool worker = false;               // --worker: claim chunks of the shared plan
  int64_t lease_seconds = 60;        // --lease-seconds
  std::string snapshot;              // --snapshot ID (rivet snapshot hold), "" = none
};

int RunCommand(const RunFlags& flags, const std::string& version);

struct CheckFlags {
  std::string config_path;
  std::optional<std::string> export_name;
  std::vector<std::string> params;  // KEY=VALUE
  bool json = false;
};
// rivet check: EXPLAIN-based verdicts per export (reference §3); 0 when every export was
// judged, whatever the verdicts.
int CheckCommand(const CheckFlags& flags);

struct DoctorFlags {
  std::string config_path;
  bool json = false;
};
// rivet doctor: source and destination credentials; non-zero when any check failed.
int DoctorCommand(const DoctorFlags& flags);

struct SnapshotHoldFlags {
  std::string config_path;
  std::vector<std::string> params;  // KEY=VALUE
  std::string id_file;              // --id-file PATH, "" = none
  std::string duration;             // --for DURATION ("90s", "30m", "2h"), "" = until a signal
};
// rivet snapshot hold: exports a PostgreSQL snapshot, prints its id as the only line on stdout
// and keeps it until SIGINT/SIGTERM or --for; 0 then, 1 when the holding connection was lost.
int SnapshotHoldCommand(const SnapshotHoldFlags& flags);

// Prints the completion script for bash | zsh | fish.
int CompletionsCommand(const std::string& shell);

// Loads the config for a command and logs its warnings. `require_secrets` false lets the
// state-only commands run where the database credentials are not exported.
Result<config::Loaded> LoadForCommand(const std::string& config_path,
                                      const std::vector<std::string>& params,
                                      bool require_secrets = true);

// The exports named by --export (all when not given); an unknown name is a config error that
// lists the known ones.
Result<std::vector<const config::ExportConfig*>> SelectExports(
    const config::Config& config, const std::optional<std::string>& export_name);

// Exit codes by severity when several exports fail: a bug, then usage, then data integrity.
int Severity(ExitCode code);

// Prints `message` as "error: ..." on stderr and returns the exit code for `code`.
int ReportError(const Status& status);

}  // namespace rivet::cli
