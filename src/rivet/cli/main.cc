// rivet: extract SQL query results from PostgreSQL and MySQL into Parquet or CSV files.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "rivet/cli/commands.h"
#include "rivet/cli/state_commands.h"
#include "rivet/common/log.h"

namespace {

constexpr const char* kFooter =
    "\nExit codes: 0 success, 1 an export failed, 2 usage or configuration error,\n"
    "3 data-integrity failure (validation), 70 internal error,\n"
    "130 / 143 interrupted by SIGINT / SIGTERM.\n"
    "Logs go to stderr; set RIVET_LOG=info|debug (RUST_LOG is also read).";

}  // namespace

int main(int argc, char** argv) {
  rivet::InitLogging();
  // A consumer that closes a stdout pipe early (`rivet run ... | head`) must make the export
  // fail with a message and an exit code, not kill the process before it records the run:
  // writes then return EPIPE instead of raising SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  // Files held for quality gates keep a descriptor each (an upload's parked tail), and parallel
  // exports multiply connections: take the open-file allowance the system grants, not the
  // shell's smaller default.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
  const std::string version = RIVET_VERSION;

  CLI::App app{"rivet " + version +
               ": extract SQL query results from PostgreSQL and MySQL into Parquet or CSV files"};
  app.footer(kFooter);
  app.set_version_flag("-V,--version", "rivet " + version);
  app.require_subcommand(1);

  rivet::cli::RunFlags run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run the exports of a config file");
  run_cmd->add_option("-c,--config", run.config_path, "Config file (YAML)")->required();
  run_cmd->add_option("-e,--export", run.export_name, "Run only this export");
  run_cmd->add_flag("--validate", run.validate,
                    "Read every file back and compare its row count before committing it");
  run_cmd->add_flag(
      "--resume", run.resume,
      "Continue the in-progress plan of a chunked export with chunk_checkpoint: true");
  run_cmd->add_flag(
      "--parallel-exports", run.parallel_exports,
      "Run all exports concurrently, one thread each (without --export, two or more exports)");
  run_cmd->add_flag("--parallel-export-processes", run.parallel_export_processes,
                    "Run each export in its own child process; wins over --parallel-exports");
  run_cmd->add_option("-p,--param", run.params,
                      "KEY=VALUE for ${KEY} in queries (wins over the environment); repeatable");
  run_cmd->add_option("--shard", run.shard,
                      "Run only the chunks of shard I of N (I/N, or N with I from "
                      "JOB_COMPLETION_INDEX); chunked exports without chunk_checkpoint");
  run_cmd->add_flag("--worker", run.worker,
                    "Join (or create) the export's shared chunk plan and claim chunks until none "
                    "is left; chunked exports with chunk_checkpoint: true");
  run_cmd
      ->add_option("--lease-seconds", run.lease_seconds,
                   "--worker: how long a claimed chunk stays this worker's without renewal "
                   "(default 60)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--snapshot", run.snapshot,
                      "Read the PostgreSQL snapshot ID held by `rivet snapshot hold` (every "
                      "connection of the run; fails if it is gone)");

  rivet::cli::SnapshotHoldFlags hold;
  CLI::App* snapshot_cmd =
      app.add_subcommand("snapshot", "Share one PostgreSQL snapshot between processes and hosts");
  snapshot_cmd->require_subcommand(1);
  CLI::App* hold_cmd = snapshot_cmd->add_subcommand(
      "hold",
      "Export a snapshot, print its id on stdout and keep it until SIGINT/SIGTERM or --for");
  hold_cmd->add_option("-c,--config", hold.config_path, "Config file (YAML)")->required();
  hold_cmd->add_option(
      "-p,--param", hold.params,
      "KEY=VALUE for ${KEY} in the config (wins over the environment); repeatable");
  hold_cmd->add_option("--id-file", hold.id_file,
                       "Also write the id to this file (atomically); removed when released");
  hold_cmd->add_option("--for", hold.duration, "Release it after DURATION (90s, 30m, 2h, 1h30m)");
  hold_cmd->footer(
      "Exit 0 when released by SIGINT/SIGTERM or --for, 1 when the connection holding it was\n"
      "lost, 2 for a usage or config error (a MySQL source: PostgreSQL only).");

  rivet::cli::CheckFlags check;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Judge how hard each export will hit the source (EXPLAIN, reads no data)");
  check_cmd->add_option("-c,--config", check.config_path, "Config file (YAML)")->required();
  check_cmd->add_option("-e,--export", check.export_name, "Check only this export");
  check_cmd->add_option("-p,--param", check.params,
                        "KEY=VALUE for ${KEY} in queries (wins over the environment); repeatable");
  check_cmd->add_flag("--json", check.json, "Print one JSON document instead of the report");
  check_cmd->footer(
      "Exit 0 when every export could be judged, whatever the verdicts; non-zero when one\n"
      "could not (authentication, syntax, a missing table or column).");

  rivet::cli::DoctorFlags doctor;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor", "Verify the source and every destination credential (leaves nothing behind)");
  doctor_cmd->add_option("-c,--config", doctor.config_path, "Config file (YAML)")->required();
  doctor_cmd->add_flag("--json", doctor.json, "Print one JSON document instead of the report");
  doctor_cmd->footer("Exit 0 when every check passed, 1 when one failed, 2 for a config error.");

  // rivet state show|files|reset|chunks|reset-chunks, rivet metrics
  struct StateFlags {
    std::string config_path;
    std::optional<std::string> export_name;
    std::optional<int64_t> last;
  };
  auto add_state_flags = [](CLI::App* cmd, StateFlags& f, bool with_last) {
    cmd->add_option("-c,--config", f.config_path, "Config file (YAML); the state DB is next to it")
        ->required();
    cmd->add_option("-e,--export", f.export_name, "Only this export");
    if (with_last) {
      cmd->add_option("-l,--last", f.last, "How many rows to show")->check(CLI::PositiveNumber);
    }
  };
  StateFlags metrics;
  CLI::App* metrics_cmd = app.add_subcommand("metrics", "Show run history, newest first");
  add_state_flags(metrics_cmd, metrics, true);
  metrics_cmd->footer("Default --last: 20.");

  CLI::App* state_cmd = app.add_subcommand("state", "Show or reset what rivet remembers");
  state_cmd->require_subcommand(1);
  StateFlags state_show, state_files, state_reset, state_chunks, state_reset_chunks;
  CLI::App* show_cmd = state_cmd->add_subcommand("show", "Incremental cursor of each export");
  add_state_flags(show_cmd, state_show, false);
  CLI::App* files_cmd = state_cmd->add_subcommand("files", "File manifest, newest first");
  add_state_flags(files_cmd, state_files, true);
  files_cmd->footer("Default --last: 50.");
  CLI::App* reset_cmd = state_cmd->add_subcommand(
      "reset", "Forget an export's cursor so it starts from the beginning");
  add_state_flags(reset_cmd, state_reset, false);
  CLI::App* chunks_cmd = state_cmd->add_subcommand("chunks", "Chunk checkpoint plan of an export");
  add_state_flags(chunks_cmd, state_chunks, false);
  CLI::App* reset_chunks_cmd =
      state_cmd->add_subcommand("reset-chunks", "Drop an export's chunk checkpoint plan");
  add_state_flags(reset_chunks_cmd, state_reset_chunks, false);
  StateFlags state_migrate;
  std::string migrate_to;
  CLI::App* migrate_cmd = state_cmd->add_subcommand(
      "migrate", "Copy the SQLite state next to the config into an empty PostgreSQL store");
  add_state_flags(migrate_cmd, state_migrate, false);
  migrate_cmd->add_option("--to", migrate_to, "postgresql:// URL of the target store")->required();

  std::string shell;
  CLI::App* completions_cmd =
      app.add_subcommand("completions", "Print a shell completion script (bash, zsh or fish)");
  completions_cmd->add_option("shell", shell, "bash | zsh | fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse problem is a usage error (exit 2).
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (run_cmd->parsed()) return rivet::cli::RunCommand(run, version);
  if (check_cmd->parsed()) return rivet::cli::CheckCommand(check);
  if (hold_cmd->parsed()) return rivet::cli::SnapshotHoldCommand(hold);
  if (doctor_cmd->parsed()) return rivet::cli::DoctorCommand(doctor);
  // The state commands read the config only to find the state DB and the export names.
  auto with_config = [](const StateFlags& f, auto command) {
    auto loaded = rivet::cli::LoadForCommand(f.config_path, {}, /*require_secrets=*/false);
    if (!loaded.has_value()) return rivet::cli::ReportError(loaded.error());
    return command(loaded->config);
  };
  using rivet::config::Config;
  if (metrics_cmd->parsed()) {
    return with_config(metrics, [&](const Config& c) {
      return rivet::cli::RunMetricsCommand(c, metrics.export_name,
                                           metrics.last.value_or(rivet::cli::kDefaultMetricsLimit),
                                           std::cout, std::cerr);
    });
  }
  if (show_cmd->parsed()) {
    return with_config(state_show, [&](const Config& c) {
      return rivet::cli::RunStateShowCommand(c, state_show.export_name, std::cout, std::cerr);
    });
  }
  if (files_cmd->parsed()) {
    return with_config(state_files, [&](const Config& c) {
      return rivet::cli::RunStateFilesCommand(
          c, state_files.export_name, state_files.last.value_or(rivet::cli::kDefaultFilesLimit),
          std::cout, std::cerr);
    });
  }
  if (reset_cmd->parsed()) {
    return with_config(state_reset, [&](const Config& c) {
      return rivet::cli::RunStateResetCommand(c, state_reset.export_name, std::cout, std::cerr);
    });
  }
  if (chunks_cmd->parsed()) {
    return with_config(state_chunks, [&](const Config& c) {
      return rivet::cli::RunStateChunksCommand(c, state_chunks.export_name, std::cout, std::cerr);
    });
  }
  if (reset_chunks_cmd->parsed()) {
    return with_config(state_reset_chunks, [&](const Config& c) {
      return rivet::cli::RunStateResetChunksCommand(c, state_reset_chunks.export_name, std::cout,
                                                    std::cerr);
    });
  }
  if (migrate_cmd->parsed()) {
    return with_config(state_migrate, [&](const Config& c) {
      return rivet::cli::RunStateMigrateCommand(c, migrate_to, std::cout, std::cerr);
    });
  }
  if (completions_cmd->parsed()) return rivet::cli::CompletionsCommand(shell);
  return 2;
}
