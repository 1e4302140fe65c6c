// rivet: extract SQL query results from PostgreSQL and MySQL into Parquet or CSV files.
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "rivet/cli/commands.h"
#include "rivet/common/log.h"

namespace {

constexpr const char* kFooter =
    "\nExit codes: 0 success, 1 an export failed, 2 usage or configuration error,\n"
    "3 data-integrity failure (validation), 70 internal error.\n"
    "Logs go to stderr; set RIVET_LOG=info|debug (RUST_LOG is also read).";

}  // namespace

int main(int argc, char** argv) {
  rivet::InitLogging();
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
  run_cmd->add_flag("--resume", run.resume, "Resume a checkpointed chunked run (not supported yet)");
  run_cmd->add_flag("--parallel-exports", run.parallel_exports,
                    "Run all exports concurrently in threads (not supported yet)");
  run_cmd->add_flag("--parallel-export-processes", run.parallel_export_processes,
                    "Run each export in its own process (not supported yet)");
  run_cmd->add_option("-p,--param", run.params,
                      "KEY=VALUE for ${KEY} in queries (wins over the environment); repeatable");

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
  if (completions_cmd->parsed()) return rivet::cli::CompletionsCommand(shell);
  return 2;
}
