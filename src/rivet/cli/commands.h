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
  std::vector<std::string> params;  // KEY=VALUE
};

int RunCommand(const RunFlags& flags, const std::string& version);

// Prints the completion script for bash | zsh | fish.
int CompletionsCommand(const std::string& shell);

// Loads the config for a command and logs its warnings. `require_secrets` false lets the
// state-only commands run where the database credentials are not exported.
Result<config::Loaded> LoadForCommand(const std::string& config_path,
                                      const std::vector<std::string>& params,
                                      bool require_secrets = true);

// Prints `message` as "error: ..." on stderr and returns the exit code for `code`.
int ReportError(const Status& status);

}  // namespace rivet::cli
